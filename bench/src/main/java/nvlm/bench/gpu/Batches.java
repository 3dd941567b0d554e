package nvlm.bench.gpu;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import nvlm.model.Batch;
import nvlm.model.config.NvlmConfig;
import nvlm.model.prompt.BatchArrays;
import nvlm.model.prompt.ChatTemplate;
import nvlm.model.prompt.Message;
import nvlm.model.prompt.PromptBuilder;
import nvlm.model.prompt.PromptImage;
import nvlm.model.prompt.Sample;
import nvlm.model.tiling.DynamicTiler;
import nvlm.model.tiling.RgbImage;
import nvlm.model.tiling.TagMode;
import nvlm.model.tokenizer.ProjectTokenizer;

/**
 * Training batches made in Java with the project tokenizer and the model's own prompt format
 * (docs/model.md §6, §10): each row a user turn with one random image and a question, and an answer. An
 * image of {@code cols x rows} tile widths becomes that grid of tiles plus the thumbnail
 * (DHR, docs/model.md §1), so a 3 x 2 image is 6 + 1 tiles.
 */
public final class Batches {
    private Batches() {
    }

    /** Rows of one image each; {@code grids[r] = {cols, rows}} in tiles ({1, 1} is one tile, no thumbnail). */
    public static Batch of(NvlmConfig config, long seed, int[]... grids) {
        SplittableRandom rng = new SplittableRandom(seed);
        int tile = config.vision().imageSize();
        PromptBuilder builder = PromptBuilder.forModel(config, ProjectTokenizer.instance(), ChatTemplate.withoutDefaultSystem());
        DynamicTiler tiler = new DynamicTiler(tile, config.tiling().minTiles(), config.tiling().maxTiles(),
                config.tiling().useThumbnail());
        List<Sample> samples = new ArrayList<>();
        for (int[] grid : grids) {
            RgbImage image = randomImage(rng, grid[0] * tile, grid[1] * tile);
            PromptImage prompt = PromptImage.of(tiler.tile(image), TagMode.ONE_D);
            List<Message> conversation = List.of(Message.user(prompt, "What is in this image?"),
                    Message.assistant("A random pattern of colored pixels."));
            samples.add(builder.build(conversation));
        }
        return Batch.of(BatchArrays.collate(samples, config.tokens().pad()));
    }

    static RgbImage randomImage(SplittableRandom rng, int width, int height) {
        byte[] rgb = new byte[width * height * 3];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) rng.nextInt(256);
        }
        return new RgbImage(width, height, rgb);
    }
}
