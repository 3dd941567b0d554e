package nvlm.trainer.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import nvlm.kernels.DType;
import nvlm.model.config.Architecture;
import nvlm.model.tiling.TagMode;
import nvlm.tensor.Device;
import nvlm.trainer.data.Family;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.View;
import nvlm.trainer.recipe.Stage;
import nvlm.trainer.train.ProgressBar;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The value types of options beyond picocli's own (numbers, strings, paths, lists): the project's
 * types, each read by its own parser so that a field's type is all an option needs, and checked
 * counts for {@code converter =}. A bad value is reported as
 * {@code Invalid value for option '--split': unknown split 'dev': expected train, validation or test}.
 */
public final class OptionTypes {
    private OptionTypes() {
    }

    /**
     * Registers every type's converter with {@code root} and the commands under it. Any other enum
     * an option has is read by its constants' names in lower case ({@code --recipe paper}).
     */
    static void register(CommandLine root) {
        enums(root).forEach(type -> register(root, type));
        root.registerConverter(Device.class, parsedBy(Device::parse));
        root.registerConverter(Architecture.class, parsedBy(Architecture::parse));
        root.registerConverter(TagMode.class, parsedBy(TagMode::parse));
        root.registerConverter(Split.class, parsedBy(Split::parse));
        root.registerConverter(Stage.class, parsedBy(text -> Stage.of(atLeast(0, text))));
        root.registerConverter(Family.class, parsedBy(Family::parse));
        root.registerConverter(View.class, oneOf(View.values(), View::id));
        root.registerConverter(DType.class, oneOf(new DType[] {DType.F32, DType.BF16, DType.F16}, OptionTypes::lowerCase));
        root.registerConverter(ProgressBar.Mode.class, text -> switch (text.toLowerCase(Locale.ROOT)) {
            case "auto" -> ProgressBar.Mode.auto(); // the environment decides, when the option is read
            case "bar" -> ProgressBar.Mode.BAR;
            case "lines" -> ProgressBar.Mode.LINES;
            case "off" -> ProgressBar.Mode.OFF;
            default -> throw new TypeConversionException("expected auto, bar, lines or off, got '" + text + "'");
        });
    }

    /** The enum types of the options of {@code command} and the commands under it (an option's element type for lists). */
    private static Set<Class<?>> enums(CommandLine command) {
        Set<Class<?>> types = new LinkedHashSet<>();
        command.getCommandSpec().options().stream().map(o -> o.auxiliaryTypes()[0]).filter(Class::isEnum).forEach(types::add);
        command.getSubcommands().values().forEach(sub -> types.addAll(enums(sub)));
        return types;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void register(CommandLine root, Class<?> type) {
        root.registerConverter((Class) type, oneOf((Enum<?>[]) type.getEnumConstants(), OptionTypes::lowerCase));
    }

    private static String lowerCase(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    private static <T> ITypeConverter<T> parsedBy(Function<String, T> parser) {
        return text -> {
            try {
                return parser.apply(text);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        };
    }

    /** One of {@code values}, named by {@code name} (case-insensitive). */
    private static <T> ITypeConverter<T> oneOf(T[] values, Function<T, String> name) {
        Map<String, T> byName = new LinkedHashMap<>();
        for (T value : values) {
            byName.put(name.apply(value), value);
        }
        return text -> {
            T value = byName.get(text.toLowerCase(Locale.ROOT));
            if (value == null) {
                List<String> names = List.copyOf(byName.keySet());
                throw new TypeConversionException("expected " + String.join(", ", names.subList(0, names.size() - 1)) + " or "
                        + names.getLast() + ", got '" + text + "'");
            }
            return value;
        };
    }

    /** An integer of at least 1. */
    public static final class AtLeastOne implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String text) {
            return atLeast(1, text);
        }
    }

    /** An integer of at least 0. */
    public static final class NonNegative implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String text) {
            return atLeast(0, text);
        }
    }

    private static int atLeast(int least, String text) {
        int value;
        try {
            value = Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("expected an integer, got '" + text + "'");
        }
        if (value < least) {
            throw new TypeConversionException("must be >= " + least + ", got " + value);
        }
        return value;
    }
}
