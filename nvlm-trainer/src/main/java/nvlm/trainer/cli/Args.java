package nvlm.trainer.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line words of one subcommand: {@code --name value} options, {@code --flag} switches
 * and positional words. Every option must be declared, so a typo is a usage error rather than a
 * silently ignored flag.
 */
public final class Args {
    private final String command;
    private final Map<String, List<String>> options = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();

    private Args(String command) {
        this.command = command;
    }

    /**
     * Parses {@code words}. {@code valued} names the options that take a value, {@code switches}
     * those that do not (both without the leading dashes).
     */
    public static Args parse(String command, List<String> words, Set<String> valued, Set<String> switches) {
        Args args = new Args(command);
        for (int i = 0; i < words.size(); i++) {
            String word = words.get(i);
            if (word.startsWith("--") && word.length() > 2) {
                String name = word.substring(2);
                String inlineValue = null;
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    inlineValue = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
                if (valued.contains(name)) {
                    String value = inlineValue;
                    if (value == null) {
                        if (i + 1 >= words.size()) {
                            throw new UsageException("--" + name + " needs a value");
                        }
                        value = words.get(++i);
                    }
                    args.options.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
                } else if (switches.contains(name) && inlineValue == null) {
                    args.options.computeIfAbsent(name, k -> new ArrayList<>()).add("true");
                } else {
                    throw new UsageException("unknown option --" + name + " (see ./nvlm " + command + " --help)");
                }
            } else {
                args.positional.add(word);
            }
        }
        return args;
    }

    public boolean has(String name) {
        return options.containsKey(name);
    }

    /** The last value given for {@code --name}, or {@code fallback}. */
    public String get(String name, String fallback) {
        List<String> values = options.get(name);
        return values == null ? fallback : values.getLast();
    }

    /** The value of a required option. */
    public String require(String name) {
        String value = get(name, null);
        if (value == null) {
            throw new UsageException("--" + name + " is required (see ./nvlm " + command + " --help)");
        }
        return value;
    }

    /** Every value given for a repeatable option, in order. */
    public List<String> all(String name) {
        return options.getOrDefault(name, List.of());
    }

    public int getInt(String name, int fallback) {
        String value = get(name, null);
        if (value == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " expects an integer, got '" + value + "'");
        }
    }

    public long getLong(String name, long fallback) {
        String value = get(name, null);
        if (value == null) {
            return fallback;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " expects an integer, got '" + value + "'");
        }
    }

    public double getDouble(String name, double fallback) {
        String value = get(name, null);
        if (value == null) {
            return fallback;
        }
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " expects a number, got '" + value + "'");
        }
    }

    public Path getPath(String name, Path fallback) {
        String value = get(name, null);
        return value == null ? fallback : Path.of(value);
    }

    public List<String> positional() {
        return positional;
    }
}
