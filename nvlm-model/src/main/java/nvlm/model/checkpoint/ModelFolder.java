package nvlm.model.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import nvlm.model.Nvlm;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.PublishedConfig;
import nvlm.model.prompt.ChatTemplate;
import nvlm.model.prompt.PromptBuilder;
import nvlm.model.tiling.DynamicTiler;
import nvlm.model.tiling.TagMode;
import nvlm.model.tokenizer.BpeTokenizer;
import nvlm.model.tokenizer.ProjectTokenizer;
import nvlm.model.tokenizer.Tokenizer;
import nvlm.tensor.Device;
import nvlm.tensor.io.Json;

/**
 * A model folder (docs/model.md §10) with what it takes to talk to it: the config, the weights, the
 * tokenizer and the prompt format. Two kinds are read: the project's own ({@code config.json} in
 * the project schema, {@code tokenizer.json} or the project tokenizer, no default system prompt),
 * and folders as published on Hugging Face ({@link PublishedConfig}: NVLM-D-72B, InternVL2, a bare
 * Qwen2 text model), whose
 * tokenizer is {@code tokenizer.json} or the slow files, whose prompt is the one their own
 * {@code chat()} builds ({@link ChatTemplate#published}), and whose {@code preprocessor_config.json}
 * must ask for the preprocessing {@link DynamicTiler} does.
 *
 * @param format {@code project}, or the published {@code model_type}
 */
public record ModelFolder(Path dir, NvlmConfig config, Tokenizer tokenizer, ChatTemplate template, String format) {
    public static final String TOKENIZER = "tokenizer.json";
    public static final String PREPROCESSOR = "preprocessor_config.json";

    public static ModelFolder open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("no model folder at " + dir + " (expected config.json and model.safetensors there; "
                    + "./nvlm init writes one)");
        }
        if (PublishedConfig.isPublished(dir)) {
            PublishedConfig published = PublishedConfig.read(dir);
            if (!published.config().hasVision()) {
                ChatTemplate qwen2 = ChatTemplate.qwen2(ChatTemplate.defaultSystemOf(chatTemplate(dir.resolve(PublishedConfig.TOKENIZER_CONFIG))));
                return new ModelFolder(dir, published.config(), BpeTokenizer.fromFolder(dir), qwen2, published.modelType());
            }
            checkPreprocessor(dir.resolve(PREPROCESSOR), published.config().vision().imageSize());
            return new ModelFolder(dir, published.config(), BpeTokenizer.fromFolder(dir), ChatTemplate.published(published.template()),
                    published.modelType());
        }
        NvlmConfig config = NvlmConfig.read(dir.resolve(Checkpoint.CONFIG));
        Path tokenizerFile = dir.resolve(TOKENIZER);
        Tokenizer tokenizer = Files.exists(tokenizerFile) ? BpeTokenizer.fromJson(tokenizerFile) : ProjectTokenizer.instance();
        return new ModelFolder(dir, config, tokenizer, ChatTemplate.withoutDefaultSystem(), "project");
    }

    /** The {@code chat_template} string of a tokenizer_config.json, or null when it has none. */
    private static String chatTemplate(Path tokenizerConfig) throws IOException {
        Object t = Json.parseObject(Files.readString(tokenizerConfig)).get("chat_template");
        return t instanceof String s ? s : null;
    }

    /** Whether this is a folder as published on Hugging Face rather than the project's own. */
    public boolean isPublished() {
        return !format.equals("project");
    }

    /**
     * The preprocessing of InternVL's {@code build_transform}, which {@link DynamicTiler} does:
     * bicubic resize to the tile size, ImageNet mean and std. Anything else is refused by field.
     */
    static void checkPreprocessor(Path file, int tileSize) throws IOException {
        if (!Files.isRegularFile(file)) {
            return; // the published chat() code does not read it; its transform is fixed
        }
        Map<String, Object> p;
        try {
            p = Json.parseObject(Files.readString(file));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        check(file, p, "image_mean", List.of(0.485, 0.456, 0.406));
        check(file, p, "image_std", List.of(0.229, 0.224, 0.225));
        check(file, p, "resample", 3L);
        for (String size : List.of("size", "crop_size")) {
            Object v = p.get(size);
            if (v instanceof Long n && n != tileSize) {
                throw new IllegalArgumentException(file + ": field '" + size + "' is " + n + " but the vision config's image_size is "
                        + tileSize);
            }
        }
    }

    private static void check(Path file, Map<String, Object> p, String field, Object supported) {
        Object v = p.get(field);
        if (v != null && !Json.write(v).equals(Json.write(supported))) {
            throw new IllegalArgumentException(file + ": field '" + field + "' is " + Json.write(v) + "; supported: "
                    + Json.write(supported) + (field.equals("resample") ? " (bicubic)" : " (ImageNet, InternVL's build_transform)"));
        }
    }

    /** Loads the weights as F32 copies (trainable); see {@link #map()} for inference. */
    public Nvlm load(Device device) throws IOException {
        return Checkpoint.load(dir, device);
    }

    /** {@link #load(Device)}, telling {@code progress} as the weights are read. */
    public Nvlm load(Device device, Checkpoint.LoadProgress progress) throws IOException {
        return Checkpoint.load(dir, device, progress);
    }

    /** The weights memory-mapped in their stored dtype, for inference on the CPU ({@link MappedModel}). */
    public MappedModel map() throws IOException {
        return MappedModel.open(dir, config);
    }

    /** The prompt builder for this model: the published folder's own prompt, or the project's (no default system prompt). */
    public PromptBuilder promptBuilder() {
        return PromptBuilder.forModel(config, tokenizer, template);
    }

    /** The tiler of the config's tiling section; a text-only model has none and refuses images. */
    public DynamicTiler tiler() {
        if (!config.hasVision()) {
            throw new IllegalArgumentException(dir + " holds a text-only model (" + format + ", no vision encoder): it takes no images");
        }
        var t = config.tiling();
        return new DynamicTiler(config.vision().imageSize(), t.minTiles(), t.maxTiles(), t.useThumbnail());
    }

    public TagMode tagMode() {
        return TagMode.parse(config.tiling().tagMode());
    }
}
