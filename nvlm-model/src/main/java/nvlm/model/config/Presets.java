package nvlm.model.config;

import java.util.List;
import nvlm.model.tokenizer.ProjectTokenizer;

/**
 * Named model shapes: {@code tiny} (CPU demo and golden tests), {@code small}
 * (benchmarks and GPU), and the real shapes {@code nvlm-d-72b} and {@code internvl2-1b}, whose
 * configs load real checkpoints.
 */
public final class Presets {
    /** The project tokenizer's vocabulary (310 tokens) rounded up to a multiple of 64. */
    static final int PROJECT_VOCAB = 320;

    private Presets() {
    }

    public static List<String> names() {
        return List.of("tiny", "small", "nvlm-d-72b", "internvl2-1b");
    }

    /**
     * The preset's config for an architecture (the real-model presets are NVLM-D shapes; X and H add
     * blocks). NVLM-X's one-layer projector has no bias (docs/model.md §4), so its config says so.
     */
    public static NvlmConfig get(String name, Architecture arch) {
        NvlmConfig.TilingConfig tiling = new NvlmConfig.TilingConfig(1, 6, true, "1d");
        SpecialTokens project = SpecialTokens.project();
        return switch (name) {
            case "tiny" -> new NvlmConfig(arch, name,
                    new VisionConfig(112, 14, 64, 4, 4, 256, "rms_norm", 1e-6, true, false, 0), 0.5,
                    new NvlmConfig.ProjectorConfig(256, arch != Architecture.X),
                    new LlmConfig(128, 4, 4, 2, 384, PROJECT_VOCAB, 1e-6, 1e6, false), 2, tiling, project);
            case "small" -> new NvlmConfig(arch, name,
                    new VisionConfig(224, 14, 256, 4, 6, 1024, "rms_norm", 1e-6, true, false, 0), 0.5,
                    new NvlmConfig.ProjectorConfig(1024, arch != Architecture.X),
                    new LlmConfig(512, 8, 8, 2, 1536, PROJECT_VOCAB, 1e-6, 1e6, false), 4, tiling, project);
            // InternViT-6B-448px-V1-5 with NVLM-D-72B's 7 dummy heads + Qwen2-72B (docs/model.md §2, §4, §5).
            case "nvlm-d-72b" -> new NvlmConfig(arch, name,
                    new VisionConfig(448, 14, 3200, 25, 45, 12800, "rms_norm", 1e-6, true, false, 7), 0.5,
                    new NvlmConfig.ProjectorConfig(29568, false),
                    new LlmConfig(8192, 80, 64, 8, 29568, 152064, 1e-6, 1e6, false), 8, tiling, SpecialTokens.qwen2());
            // InternViT-300M-448px + Qwen2-0.5B-Instruct; InternVL2's <IMG_CONTEXT> is id 151648.
            case "internvl2-1b" -> new NvlmConfig(arch, name,
                    new VisionConfig(448, 14, 1024, 16, 24, 4096, "layer_norm", 1e-6, false, true, 0), 0.5,
                    new NvlmConfig.ProjectorConfig(896, true),
                    new LlmConfig(896, 24, 14, 2, 4864, 151655, 1e-6, 1e6, true), 6, tiling,
                    new SpecialTokens(151648, 151643, 151645));
            default -> throw new IllegalArgumentException("unknown preset '" + name + "' (known: " + String.join(", ", names()) + ")");
        };
    }

    static {
        if (ProjectTokenizer.instance().vocabSize() > PROJECT_VOCAB) {
            throw new AssertionError("project tokenizer outgrew the presets' vocabulary");
        }
    }
}
