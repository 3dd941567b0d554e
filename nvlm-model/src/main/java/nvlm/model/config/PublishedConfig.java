package nvlm.model.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import nvlm.tensor.io.Json;

/**
 * A {@code config.json} as Hugging Face publishes it (docs/model.md §10), read onto this project's
 * {@link NvlmConfig}: {@code model_type} {@code NVLM_D} (NVLM-D-72B: InternViT-6B with 7 zero dummy
 * heads, a Qwen2 decoder that the config calls "llama", chatml prompts with tile tags) or
 * {@code internvl_chat} (the InternVL2/2.5 family with Qwen2 decoders: Hermes-2 or chatml prompts,
 * no tile tags), or {@code qwen2} (a bare {@code Qwen2ForCausalLM} text model: the decoder alone,
 * {@link NvlmConfig#textOnly}, Qwen2's own chat template). Every value this project cannot run is refused with the file, the field and what is
 * supported, never silently ignored. The special-token ids come from the folder's
 * {@code tokenizer_config.json}.
 *
 * @param modelType the config's {@code model_type}
 * @param template  the config's {@code template}: the prompt format the folder's own {@code chat()} builds
 */
public record PublishedConfig(String modelType, NvlmConfig config, String template) {
    public static final String CONFIG = "config.json";
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    /** The {@code model_type} values read here. */
    public static final List<String> MODEL_TYPES = List.of("NVLM_D", "internvl_chat", "qwen2");
    /** The prompt templates supported: NVLM-D's and InternVL2's (with Qwen2 decoders). */
    public static final List<String> TEMPLATES = List.of("chatml", "Hermes-2");
    /**
     * The template of a bare Qwen2 folder (no {@code template} field there): Qwen2's ChatML, each
     * turn followed by a newline, the default system prompt its tokenizer_config's {@code chat_template} writes.
     */
    public static final String QWEN2_TEMPLATE = "qwen2";

    /** Whether {@code dir/config.json} is a published config (has a {@code model_type}) rather than the project's own. */
    public static boolean isPublished(Path dir) throws IOException {
        Path file = dir.resolve(CONFIG);
        if (!Files.isRegularFile(file)) {
            return false;
        }
        try {
            return Json.parseObject(Files.readString(file)).containsKey("model_type");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    /** Reads {@code dir/config.json} and the token ids of {@code dir/tokenizer_config.json}. */
    public static PublishedConfig read(Path dir) throws IOException {
        Path file = dir.resolve(CONFIG);
        if (!Files.isRegularFile(file)) {
            throw new IOException("no config file at " + file);
        }
        Map<String, Object> root;
        try {
            root = Json.parseObject(Files.readString(file));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        Map<String, Integer> added = addedTokens(dir.resolve(TOKENIZER_CONFIG));
        return fromJson(root, file.toString(), added, dir.resolve(TOKENIZER_CONFIG).toString());
    }

    /**
     * Parses a published config. {@code addedTokens} maps the tokenizer's added token contents to ids
     * ({@code tokenizerSource} names where they came from in errors).
     */
    public static PublishedConfig fromJson(Map<String, Object> root, String source, Map<String, Integer> addedTokens,
                                           String tokenizerSource) {
        ConfigReader r = new ConfigReader(source, "", root);
        String type = r.oneOf("model_type", MODEL_TYPES.toArray(String[]::new));
        if (type.equals("qwen2")) {
            LlmConfig llm = llm(r, false);
            try {
                return new PublishedConfig(type, NvlmConfig.textOnly("qwen2", llm, tokenId(addedTokens, "<|endoftext|>", tokenizerSource),
                        tokenId(addedTokens, "<|im_end|>", tokenizerSource)), QWEN2_TEMPLATE);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
            }
        }
        boolean nvlm = type.equals("NVLM_D");
        String template = r.oneOf("template", TEMPLATES.toArray(String[]::new));
        require(r, "ps_version", "v2");
        requireNumber(r, "downsample_ratio", 0.5);
        if (r.has("select_layer") && r.integer("select_layer") != -1) {
            throw r.error("select_layer", "must be -1 (features of the last ViT layer: the only choice supported)",
                    r.raw("select_layer"));
        }
        if (r.integer("use_backbone_lora", 0) != 0 || r.integer("use_llm_lora", 0) != 0) {
            throw r.error(r.integer("use_backbone_lora", 0) != 0 ? "use_backbone_lora" : "use_llm_lora",
                    "must be 0 (LoRA adapters are not supported; merge them first)", r.raw("use_llm_lora"));
        }
        VisionConfig vision = vision(r.object("vision_config"), nvlm);
        if (r.has("force_image_size") && r.integer("force_image_size") != vision.imageSize()) {
            throw r.error("force_image_size", "must equal vision_config.image_size " + vision.imageSize(), r.raw("force_image_size"));
        }
        LlmConfig llm = llm(r.object("llm_config"), nvlm);
        boolean dynamic = r.bool("dynamic_image_size", true);
        int min = dynamic ? r.positive("min_dynamic_patch") : 1;
        int max = dynamic ? r.positive("max_dynamic_patch") : 1;
        if (max < min) {
            throw r.error("max_dynamic_patch", "must be at least min_dynamic_patch " + min, r.raw("max_dynamic_patch"));
        }
        // NVLM-D tags each tile <tile_k> (1d); InternVL's templates put no tags (tag mode none).
        var tiling = new NvlmConfig.TilingConfig(min, max, r.bool("use_thumbnail", false), nvlm ? "1d" : "none");
        String contextToken = nvlm ? "<|vision_pad|>" : "<IMG_CONTEXT>";
        SpecialTokens tokens = new SpecialTokens(tokenId(addedTokens, contextToken, tokenizerSource),
                tokenId(addedTokens, "<|endoftext|>", tokenizerSource), tokenId(addedTokens, "<|im_end|>", tokenizerSource));
        // NVLM-D-72B's mlp1 linears have no biases (its index has mlp1.0.bias only); InternVL's have them.
        var projector = new NvlmConfig.ProjectorConfig(nvlm ? llm.intermediateSize() : llm.hiddenSize(), !nvlm);
        try {
            NvlmConfig config = new NvlmConfig(Architecture.D, nvlm ? "nvlm-d" : "internvl", vision, 0.5, projector, llm, 0,
                    tiling, tokens);
            return new PublishedConfig(type, config, template);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    private static VisionConfig vision(ConfigReader v, boolean nvlm) {
        require(v, "hidden_act", "gelu");
        if (v.has("num_channels") && v.integer("num_channels") != 3) {
            throw v.error("num_channels", "must be 3 (RGB)", v.raw("num_channels"));
        }
        int heads = v.positive("num_attention_heads");
        // NVLM-D's InternViT-6B pads its 25 heads with zero heads to a multiple of 8 (published vision code).
        int dummy = nvlm ? (8 - heads % 8) % 8 : 0;
        return new VisionConfig(v.positive("image_size"), v.positive("patch_size"), v.positive("hidden_size"), heads,
                v.positive("num_hidden_layers"), v.positive("intermediate_size"), v.oneOf("norm_type", "rms_norm", "layer_norm"),
                v.number("layer_norm_eps", 1e-6), v.bool("qk_normalization", false), v.bool("qkv_bias", false), dummy);
    }

    private static LlmConfig llm(ConfigReader l, boolean nvlm) {
        String arch = architecture(l);
        if (!arch.equals("Qwen2ForCausalLM")) {
            throw l.error("architectures", "must be [\"Qwen2ForCausalLM\"] (the only decoder supported)", l.raw("architectures"));
        }
        String type = l.oneOf("model_type", "qwen2", "llama");
        if (type.equals("llama") && !l.bool("attention_bias", false)) {
            throw l.error("attention_bias", "must be true (the Qwen2 decoder has q/k/v biases)", l.raw("attention_bias"));
        }
        if (l.bool("mlp_bias", false)) {
            throw l.error("mlp_bias", "must be false (the Qwen2 MLP has no biases)", l.raw("mlp_bias"));
        }
        require(l, "hidden_act", "silu");
        if (l.bool("use_sliding_window", false)) {
            throw l.error("use_sliding_window", "must be false (sliding-window attention is not supported)", l.raw("use_sliding_window"));
        }
        double factor = 1.0;
        int maxPositions = l.has("max_position_embeddings") ? l.positive("max_position_embeddings") : LlmConfig.DEFAULT_MAX_POSITIONS;
        if (l.has("rope_scaling")) {
            ConfigReader s = l.object("rope_scaling");
            String kind = s.has("rope_type") ? s.oneOf("rope_type", "dynamic", "default") : s.oneOf("type", "dynamic", "default");
            if (kind.equals("dynamic")) {
                factor = s.number("factor");
                if (factor < 1) {
                    throw s.error("factor", "must be at least 1", s.raw("factor"));
                }
            }
        }
        int hidden = l.positive("hidden_size");
        int heads = l.positive("num_attention_heads");
        if (l.has("head_dim") && l.integer("head_dim") != hidden / heads) {
            throw l.error("head_dim", "must be hidden_size / num_attention_heads = " + hidden / heads, l.raw("head_dim"));
        }
        return new LlmConfig(hidden, l.positive("num_hidden_layers"), heads, l.integer("num_key_value_heads", heads),
                l.positive("intermediate_size"), l.positive("vocab_size"), l.number("rms_norm_eps", 1e-6),
                l.number("rope_theta", 1e6), l.bool("tie_word_embeddings", false), factor, maxPositions);
    }

    private static String architecture(ConfigReader l) {
        Object a = l.raw("architectures");
        if (a instanceof List<?> list && list.size() == 1 && list.getFirst() instanceof String s) {
            return s;
        }
        throw l.error("architectures", "must be a list of one name", a);
    }

    private static void require(ConfigReader r, String key, String value) {
        if (r.has(key)) {
            r.oneOf(key, value);
        }
    }

    private static void requireNumber(ConfigReader r, String key, double value) {
        if (r.has(key) && r.number(key) != value) {
            throw r.error(key, "must be " + value + " (the only value supported)", r.raw(key));
        }
    }

    private static int tokenId(Map<String, Integer> added, String content, String source) {
        Integer id = added.get(content);
        if (id == null) {
            throw new IllegalArgumentException(source + ": the tokenizer has no added token '" + content
                    + "', which the prompt format needs (added tokens: " + added.keySet() + ")");
        }
        return id;
    }

    /** Added token contents to ids from tokenizer_config.json's {@code added_tokens_decoder}. */
    public static Map<String, Integer> addedTokens(Path tokenizerConfig) throws IOException {
        if (!Files.isRegularFile(tokenizerConfig)) {
            throw new IOException("no " + TOKENIZER_CONFIG + " at " + tokenizerConfig + " (a published folder has one beside config.json)");
        }
        Map<String, Object> root;
        try {
            root = Json.parseObject(Files.readString(tokenizerConfig));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(tokenizerConfig + ": not valid JSON: " + e.getMessage(), e);
        }
        ConfigReader r = new ConfigReader(tokenizerConfig.toString(), "", root);
        ConfigReader decoder = r.object("added_tokens_decoder");
        Map<String, Integer> out = new java.util.LinkedHashMap<>();
        @SuppressWarnings("unchecked")
        Map<String, Object> entries = (Map<String, Object>) root.get("added_tokens_decoder");
        for (String key : entries.keySet()) {
            int id;
            try {
                id = Integer.parseInt(key);
            } catch (NumberFormatException e) {
                throw decoder.error(key, "must be keyed by a token id", key);
            }
            out.put(decoder.object(key).string("content"), id);
        }
        return out;
    }
}
