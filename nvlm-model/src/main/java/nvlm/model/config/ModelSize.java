package nvlm.model.config;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * How much memory a config's model takes, decided from the config before anything is allocated:
 * a {@code vocab_size} of 2^31-1 or a 40 GB shape is refused with the figures instead of going
 * to the native allocator. The parameter count follows the modules of docs/model.md §2-§7 (norms
 * and biases included, to within a few per cent); the model is created in F32.
 *
 * <p>The limit is {@code NVLM_MAX_MEMORY} (or {@code -Dnvlm.maxMemory}), in bytes with an optional
 * k/m/g/t suffix, else the machine's physical memory.
 */
public final class ModelSize {
    private ModelSize() {
    }

    /** Parameters of the model {@code config} describes. */
    public static double parameters(NvlmConfig config) {
        LlmConfig l = config.llm();
        double d = l.hiddenSize();
        double kv = (double) l.numKvHeads() * l.headDim();
        double layer = d * d + 2 * d * kv + d * d + d + 2 * kv + 3 * d * l.intermediateSize() + 2 * d;
        double embeddings = (double) l.vocabSize() * d * (l.tieWordEmbeddings() ? 1 : 2);
        // gated cross-attention (docs/model.md §7): GQA projections, an MLP, two norms, two gates
        double crossAttention = config.crossAttentionBlocks() * (2 * d * d + 2 * d * kv + 3 * d * l.intermediateSize() + 2 * d + 2);
        double decoder = l.numLayers() * layer + embeddings + d + crossAttention;
        if (!config.hasVision()) {
            return decoder;
        }
        VisionConfig v = config.vision();
        double c = v.hiddenSize();
        double heads = v.paddedHeads() * (double) v.headDim();
        double patches = (double) v.gridSize() * v.gridSize() + 1;
        double vision = 3.0 * v.patchSize() * v.patchSize() * c + c + patches * c + c
                + v.numLayers() * (3 * c * heads + heads * c + 2 * c * v.intermediateSize() + v.intermediateSize() + 8 * c
                + (v.qkvBias() ? 3 * heads : 0) + (v.qkNormalization() ? 2 * heads : 0));
        double shuffled = config.shuffledWidth();
        double projector = config.architecture() == Architecture.X
                ? 2 * shuffled + shuffled * d // LayerNorm + one linear without bias (docs/model.md §4)
                : 2 * shuffled + shuffled * config.projector().hiddenSize() + config.projector().hiddenSize() * d
                + config.projector().hiddenSize() + d;
        return vision + projector + decoder;
    }

    /** Bytes of the model's weights in F32. */
    public static double bytes(NvlmConfig config) {
        return 4 * parameters(config);
    }

    /** The memory this process may give a model: NVLM_MAX_MEMORY, else the machine's physical memory. */
    public static long limit() {
        String value = System.getProperty("nvlm.maxMemory", System.getenv("NVLM_MAX_MEMORY"));
        if (value != null && !value.isBlank()) {
            return parseBytes(value.trim(), "NVLM_MAX_MEMORY");
        }
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return Long.MAX_VALUE;
    }

    /** "512m", "12g", "1073741824": bytes; anything else fails naming {@code what}. */
    public static long parseBytes(String text, String what) {
        String t = text.toLowerCase(Locale.ROOT);
        long unit = switch (t.isEmpty() ? ' ' : t.charAt(t.length() - 1)) {
            case 'k' -> 1L << 10;
            case 'm' -> 1L << 20;
            case 'g' -> 1L << 30;
            case 't' -> 1L << 40;
            default -> 1;
        };
        String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
        try {
            long n = Long.parseLong(digits);
            if (n > 0 && n <= Long.MAX_VALUE / unit) {
                return n * unit;
            }
        } catch (NumberFormatException ignored) {
            // the message below
        }
        throw new IllegalArgumentException(what + " must be a size such as 512m, 12g or 1073741824 bytes, got '" + text + "'");
    }

    /** Fails, with the figures, when the model of {@code config} does not fit {@link #limit()}. */
    public static void requireFits(NvlmConfig config) {
        double bytes = bytes(config);
        long limit = limit();
        if (bytes > limit) {
            LlmConfig l = config.llm();
            String vision = config.hasVision() ? String.format(Locale.ROOT, ", vision.hidden_size %d, vision.num_layers %d",
                    config.vision().hiddenSize(), config.vision().numLayers()) : "";
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "the model this config describes has %.3g parameters, %s in F32, more than the %s this process may use"
                            + " (NVLM_MAX_MEMORY, else the machine's memory): llm.vocab_size %d, llm.hidden_size %d, llm.num_layers %d,"
                            + " llm.intermediate_size %d%s; check these fields",
                    parameters(config), gib(bytes), gib(limit), l.vocabSize(), l.hiddenSize(), l.numLayers(), l.intermediateSize(),
                    vision));
        }
    }

    private static String gib(double bytes) {
        return bytes >= (1L << 30) ? String.format(Locale.ROOT, "%.1f GiB", bytes / (1L << 30))
                : String.format(Locale.ROOT, "%.1f MiB", bytes / (1L << 20));
    }
}
