package nvlm.model.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import nvlm.model.tokenizer.ProjectTokenizer;
import nvlm.tensor.io.DurableFiles;
import nvlm.tensor.io.Json;
import nvlm.tensor.io.JsonFile;

/**
 * A model's config.json (docs/model.md §10): architecture, InternViT, pixel-shuffle ratio, projector,
 * decoder, cross-attention placement, tiling and special token ids ({@link SpecialTokens}).
 * One record per part. A text-only model (a bare {@code Qwen2ForCausalLM} folder, {@link #textOnly})
 * has no vision part: {@code vision} and {@code projector} are null and no image-context id is set.
 * {@code taggedMemory} (X and H only, a project decision beyond the paper, docs/model.md §7 "Tagged
 * memory") adds each regular tile's tag embedding to its cross-attention memory rows;
 * {@code tagsInSequence} (H only, likewise a project decision, docs/model.md §7 "Tags in
 * NVLM-H's sequence") puts every regular tile's tag into NVLM-H's decoder sequence, each tag's positions
 * seeing only its own tile, as in NVLM-X. Both are false in every published model.
 */
public record NvlmConfig(Architecture architecture, String preset, VisionConfig vision, double downsampleRatio,
                         ProjectorConfig projector, LlmConfig llm, int xattnEvery, TilingConfig tiling,
                         SpecialTokens tokens, boolean taggedMemory, boolean tagsInSequence) {

    /** The projector (docs/model.md §4): hidden width of the 2-layer MLP (D, H) and whether its linears have biases. */
    public record ProjectorConfig(int hiddenSize, boolean bias) {
    }

    /**
     * DHR tiling (docs/model.md §1) and the tile-tag mode (docs/model.md §6). At most
     * {@value #MAX_TILES} tiles: the paper uses 6 (InternVL up to 40); the tiler enumerates every
     * grid up to the maximum, and each tile costs a vision forward and its image tokens.
     */
    public record TilingConfig(int minTiles, int maxTiles, boolean useThumbnail, String tagMode) {
        public static final int MAX_TILES = 128;

        public TilingConfig {
            if (minTiles < 1 || maxTiles < minTiles || maxTiles > MAX_TILES) {
                throw new IllegalArgumentException("tiling needs 1 <= min_tiles <= max_tiles <= " + MAX_TILES + ", got min_tiles "
                        + minTiles + ", max_tiles " + maxTiles);
            }
        }
    }

    /** A config of the paper's architectures (no tagged memory, no tags in H's sequence). */
    public NvlmConfig(Architecture architecture, String preset, VisionConfig vision, double downsampleRatio,
                      ProjectorConfig projector, LlmConfig llm, int xattnEvery, TilingConfig tiling, SpecialTokens tokens) {
        this(architecture, preset, vision, downsampleRatio, projector, llm, xattnEvery, tiling, tokens, false, false);
    }

    public NvlmConfig {
        if (taggedMemory && architecture == Architecture.D) {
            throw new IllegalArgumentException("xattn.tagged_memory applies to architectures X and H (NVLM-D has no"
                    + " cross-attention memory)");
        }
        if (tagsInSequence && architecture != Architecture.H) {
            throw new IllegalArgumentException("xattn.tags_in_sequence applies to architecture H (NVLM-" + architecture
                    + "'s decoder sequence holds every tile's tag already)");
        }
        if (vision == null) {
            if (architecture != Architecture.D || projector != null || tokens.imageContext() != -1) {
                throw new IllegalArgumentException("a config without a vision part is a text-only decoder: architecture D,"
                        + " no projector and image_context -1");
            }
        } else {
            requireVisionFits(architecture, vision, downsampleRatio, llm, xattnEvery, tokens);
        }
    }

    private static void requireVisionFits(Architecture architecture, VisionConfig vision, double downsampleRatio, LlmConfig llm,
                                          int xattnEvery, SpecialTokens tokens) {
        if (downsampleRatio != 0.5) {
            throw new IllegalArgumentException("downsample_ratio " + downsampleRatio + " is not supported (docs/model.md §3 fixes 0.5)");
        }
        if (vision.gridSize() % 2 != 0) {
            throw new IllegalArgumentException("vision grid " + vision.gridSize() + " must be even for pixel shuffle (docs/model.md §3)");
        }
        if (architecture != Architecture.D && xattnEvery <= 0) {
            throw new IllegalArgumentException("xattn.every must be positive for architecture " + architecture);
        }
        if (tokens.imageContext() < 0 || tokens.imageContext() >= llm.vocabSize()) {
            throw new IllegalArgumentException("tokens.image_context " + tokens.imageContext() + " outside the vocabulary of "
                    + llm.vocabSize());
        }
    }

    /**
     * A text-only decoder (docs/model.md §5) without vision encoder or projector: what a bare
     * {@code Qwen2ForCausalLM} folder holds. {@code pad} and {@code imEnd} are the tokenizer's
     * {@code <|endoftext|>} and {@code <|im_end|>}.
     */
    public static NvlmConfig textOnly(String preset, LlmConfig llm, int pad, int imEnd) {
        return new NvlmConfig(Architecture.D, preset, null, 0.5, null, llm, 0, new TilingConfig(1, 1, false, "none"),
                new SpecialTokens(-1, pad, imEnd));
    }

    /** Whether the model reads images (false for a text-only decoder, {@link #textOnly}). */
    public boolean hasVision() {
        return vision != null;
    }

    /** Image tokens per tile after pixel shuffle: (S/P)^2 * ratio^2 (docs/model.md §10); 0 without vision. */
    public int tokensPerTile() {
        if (vision == null) {
            return 0;
        }
        int g = vision.gridSize() / 2;
        return g * g;
    }

    /** Width of one pixel-shuffled token, 4C (docs/model.md §3); 0 without vision. */
    public int shuffledWidth() {
        return vision == null ? 0 : 4 * vision.hiddenSize();
    }

    /** Decoder layers that get a gated cross-attention block before them (docs/model.md §7): (i+1) % every == 0. */
    public int crossAttentionBlocks() {
        return architecture == Architecture.D ? 0 : llm.numLayers() / xattnEvery;
    }

    /**
     * The same model as another architecture; NVLM-D drops {@link #taggedMemory} (it has no memory),
     * and every architecture but H drops {@link #tagsInSequence}.
     */
    public NvlmConfig withArchitecture(Architecture arch) {
        return new NvlmConfig(arch, preset, vision, downsampleRatio, projector, llm, xattnEvery, tiling, tokens,
                taggedMemory && arch != Architecture.D, tagsInSequence && arch == Architecture.H);
    }

    public NvlmConfig withVocabSize(int vocab) {
        LlmConfig l = llm.withVocabSize(vocab);
        return new NvlmConfig(architecture, preset, vision, downsampleRatio, projector, l, xattnEvery, tiling, tokens,
                taggedMemory, tagsInSequence);
    }

    public NvlmConfig withTokens(SpecialTokens t) {
        return new NvlmConfig(architecture, preset, vision, downsampleRatio, projector, llm, xattnEvery, tiling, t,
                taggedMemory, tagsInSequence);
    }

    public NvlmConfig withTiling(TilingConfig t) {
        return new NvlmConfig(architecture, preset, vision, downsampleRatio, projector, llm, xattnEvery, t, tokens,
                taggedMemory, tagsInSequence);
    }

    /** This config with tagged cross-attention memory on or off (docs/model.md §7; X and H only). */
    public NvlmConfig withTaggedMemory(boolean on) {
        return new NvlmConfig(architecture, preset, vision, downsampleRatio, projector, llm, xattnEvery, tiling, tokens, on,
                tagsInSequence);
    }

    /** This NVLM-H config with its regular tiles' tags in the decoder sequence or not (docs/model.md §7). */
    public NvlmConfig withTagsInSequence(boolean on) {
        return new NvlmConfig(architecture, preset, vision, downsampleRatio, projector, llm, xattnEvery, tiling, tokens,
                taggedMemory, on);
    }

    // ------------------------------------------------------------------ JSON

    /** Parses config.json text; {@code source} names the file in errors (every error starts with it). */
    public static NvlmConfig fromJson(String text, String source) {
        try {
            return parse(text, source);
        } catch (IllegalArgumentException e) {
            throw e.getMessage() != null && e.getMessage().startsWith(source) ? e
                    : new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    private static NvlmConfig parse(String text, String source) {
        Map<String, Object> root;
        try {
            root = Json.parseObject(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": not valid JSON: " + e.getMessage(), e);
        }
        ConfigReader r = new ConfigReader(source, "", root);
        Architecture arch = Architecture.parse(r.oneOf("architecture", "D", "X", "H"));
        VisionConfig vision = VisionConfig.read(r.object("vision"));
        ConfigReader p = r.object("projector");
        ProjectorConfig projector = new ProjectorConfig(p.integer("hidden_size", 0), p.bool("bias", true));
        if (arch != Architecture.X && projector.hiddenSize() <= 0) {
            throw new IllegalArgumentException(source + ": field 'projector.hidden_size' must be positive for architecture " + arch);
        }
        LlmConfig llm = LlmConfig.read(r.object("llm"));
        ConfigReader xattn = arch == Architecture.D ? null : r.object("xattn");
        int every = xattn == null ? 0 : xattn.positive("every");
        boolean taggedMemory = xattn != null && xattn.bool("tagged_memory", false);
        boolean tagsInSequence = xattn != null && xattn.bool("tags_in_sequence", false);
        TilingConfig tiling = new TilingConfig(1, 6, true, "1d");
        if (r.has("tiling")) {
            ConfigReader t = r.object("tiling");
            try {
                tiling = new TilingConfig(t.integer("min_tiles", 1), t.integer("max_tiles", 6), t.bool("use_thumbnail", true),
                        t.oneOf("tag_mode", "none", "1d", "2d_grid", "2d_bbox"));
            } catch (IllegalArgumentException e) {
                throw e.getMessage().startsWith(source) ? e : new IllegalArgumentException(source + ": " + e.getMessage(), e);
            }
        }
        ConfigReader tk = r.object("tokens");
        SpecialTokens tokens = new SpecialTokens(tk.integer("image_context"), tk.integer("pad"), tk.integer("im_end"));
        try {
            return new NvlmConfig(arch, r.string("preset", "custom"), vision, r.number("downsample_ratio", 0.5), projector,
                    llm, every, tiling, tokens, taggedMemory, tagsInSequence);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    public static NvlmConfig read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("no config file at " + file);
        }
        return fromJson(JsonFile.readText(file), file.toString());
    }

    public String toJson() {
        if (vision == null) {
            throw new IllegalArgumentException("the project's config.json schema has no text-only form: a text-only model ("
                    + preset + ") is read from its published folder and cannot be written as a project folder");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architecture", architecture.name());
        m.put("preset", preset);
        m.put("vision", vision.toJson());
        m.put("downsample_ratio", downsampleRatio);
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("hidden_size", (long) projector.hiddenSize());
        p.put("bias", projector.bias());
        m.put("projector", p);
        m.put("llm", llm.toJson());
        if (architecture != Architecture.D) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("every", (long) xattnEvery);
            if (taggedMemory) {
                x.put("tagged_memory", true);
            }
            if (tagsInSequence) {
                x.put("tags_in_sequence", true);
            }
            m.put("xattn", x);
        }
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("min_tiles", (long) tiling.minTiles());
        t.put("max_tiles", (long) tiling.maxTiles());
        t.put("use_thumbnail", tiling.useThumbnail());
        t.put("tag_mode", tiling.tagMode());
        m.put("tiling", t);
        Map<String, Object> tk = new LinkedHashMap<>();
        tk.put("image_context", (long) tokens.imageContext());
        tk.put("pad", (long) tokens.pad());
        tk.put("im_end", (long) tokens.imEnd());
        if (tokens.equals(SpecialTokens.project())) {
            // Informational, for tools that build batches without a tokenizer (tests/reference).
            tk.put("im_start", (long) ProjectTokenizer.IM_START);
            tk.put("image_start", (long) ProjectTokenizer.IMAGE_START);
            tk.put("image_end", (long) ProjectTokenizer.IMAGE_END);
        }
        m.put("tokens", tk);
        return Json.writePretty(m);
    }

    /** Writes config.json atomically and durably (forced to disk before and after the rename). */
    public void write(Path file) throws IOException {
        DurableFiles.writeString(file, toJson());
    }
}
