package nvlm.model.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import nvlm.model.Nvlm;
import nvlm.model.config.NvlmConfig;
import nvlm.model.prompt.ChatTemplate;
import nvlm.model.prompt.PromptBuilder;
import nvlm.model.tiling.DynamicTiler;
import nvlm.model.tiling.TagMode;
import nvlm.model.tokenizer.BpeTokenizer;
import nvlm.model.tokenizer.ProjectTokenizer;
import nvlm.model.tokenizer.Tokenizer;
import nvlm.tensor.Device;

/**
 * A model folder (docs/model.md §10) with what it takes to talk to it: config.json, the weights, and the
 * tokenizer.json beside them (the project tokenizer when the folder has none).
 */
public record ModelFolder(Path dir, NvlmConfig config, Tokenizer tokenizer) {
    public static final String TOKENIZER = "tokenizer.json";

    public static ModelFolder open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("no model folder at " + dir + " (expected config.json and model.safetensors there; "
                    + "./nvlm init writes one)");
        }
        NvlmConfig config = NvlmConfig.read(dir.resolve(Checkpoint.CONFIG));
        Path tokenizerFile = dir.resolve(TOKENIZER);
        Tokenizer tokenizer = Files.exists(tokenizerFile) ? BpeTokenizer.fromJson(tokenizerFile) : ProjectTokenizer.instance();
        return new ModelFolder(dir, config, tokenizer);
    }

    public Nvlm load(Device device) throws IOException {
        return Checkpoint.load(dir, device);
    }

    /** {@link #load(Device)}, telling {@code progress} as the weights are read. */
    public Nvlm load(Device device, Checkpoint.LoadProgress progress) throws IOException {
        return Checkpoint.load(dir, device, progress);
    }

    /** The prompt builder for this model (no default system prompt). */
    public PromptBuilder promptBuilder() {
        return new PromptBuilder(config.architecture(), config.vision().imageSize(), config.tokensPerTile(), config.tokens(),
                tokenizer, ChatTemplate.withoutDefaultSystem());
    }

    /** The tiler of the config's tiling section. */
    public DynamicTiler tiler() {
        var t = config.tiling();
        return new DynamicTiler(config.vision().imageSize(), t.minTiles(), t.maxTiles(), t.useThumbnail());
    }

    public TagMode tagMode() {
        return TagMode.parse(config.tiling().tagMode());
    }
}
