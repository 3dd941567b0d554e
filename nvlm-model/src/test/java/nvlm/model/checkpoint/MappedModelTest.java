package nvlm.model.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.kernels.DType;
import nvlm.model.Batch;
import nvlm.model.Nvlm;
import nvlm.model.config.NvlmConfig;
import nvlm.model.prompt.BatchArrays;
import nvlm.model.prompt.Message;
import nvlm.model.prompt.PromptImage;
import nvlm.model.prompt.Sample;
import nvlm.model.tiling.RgbImage;
import nvlm.tensor.Device;
import nvlm.tensor.GradMode;
import nvlm.tensor.Tensor;
import nvlm.tensor.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory-mapped BF16 loading of folders in the published layouts gives the logits of the project's
 * own path (every tensor copied to F32 into a model built from the same config): the BF16 GEMM
 * reads the same values the copy widened.
 */
class MappedModelTest {
    @TempDir
    Path tmp;

    static RgbImage image(int w, int h, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) r.nextInt(256);
        }
        return new RgbImage(w, h, rgb);
    }

    private static void assertClose(float[] expected, float[] actual, double rel) {
        assertEquals(expected.length, actual.length);
        double scale = 0;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], rel * scale, "logit " + i);
        }
    }

    private static float[] logits(Nvlm model, Batch batch) {
        try (var noGrad = GradMode.disabled()) {
            return model.forward(batch).logits().toFloatArray();
        }
    }

    @Test
    void internVlLayoutMappedGivesTheLogitsOfTheF32CopyPathWithAnImageOfThreeTiles() throws IOException {
        Path dir = tmp.resolve("internvl");
        PublishedFolders.internVl(dir, DType.BF16, 8 << 20);
        ModelFolder folder = ModelFolder.open(dir);
        assertEquals("internvl_chat", folder.format());
        PromptImage img = PromptImage.of(folder.tiler().tile(image(800, 400, 1)), folder.tagMode());
        assertEquals(3, img.tiles(), "2 tiles + thumbnail");
        Sample sample = folder.promptBuilder().buildForGeneration(List.of(Message.user(img, "What is in the picture?")));
        Batch batch = Batch.of(BatchArrays.collate(List.of(sample), folder.config().tokens().pad()));
        float[] copied = logits(folder.load(Device.CPU), batch);
        try (MappedModel mapped = folder.map()) {
            assertClose(copied, logits(mapped.model(), batch), 1e-4);
            assertEquals(DType.BF16, mapped.model().languageModel().embeddingTable().dtype());
        }
    }

    @Test
    void nvlmDLayoutWithDummyHeadsMappedGivesTheLogitsOfTheF32CopyPath() throws IOException {
        Path dir = tmp.resolve("nvlm-d");
        NvlmConfig config = PublishedFolders.nvlmD(dir, DType.BF16, Long.MAX_VALUE);
        assertEquals(3, config.vision().numDummyHeads());
        int ctx = config.tokens().imageContext();
        int n = config.tokensPerTile();
        int[] ids = new int[3 + n + 4];
        assertTrue(ids.length > config.llm().maxPositionEmbeddings() && ids.length <= config.llm().contextLength(),
                "past the trained length (dynamic NTK on), within the context length");
        int[] media = new int[ids.length];
        Arrays.fill(media, -1);
        ids[0] = 151644;
        ids[1] = 872;
        ids[2] = 198;
        for (int i = 0; i < n; i++) {
            ids[3 + i] = ctx;
        }
        Arrays.fill(media, 3, ids.length, 0);
        ids[3 + n] = 3838;
        ids[4 + n] = 374;
        ids[5 + n] = 151645;
        ids[6 + n] = 151644;
        int[] labels = new int[ids.length];
        Arrays.fill(labels, -100);
        float[] pixels = new float[3 * 448 * 448];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) r.nextGaussian();
        }
        int[] tiles = new int[ids.length];
        Arrays.fill(tiles, -1);
        Sample sample = new Sample(ids, labels, media, tiles, new int[] {1}, new int[][] {{}}, pixels, 448);
        Batch batch = Batch.of(BatchArrays.collate(List.of(sample), config.tokens().pad()));
        float[] copied = logits(Checkpoint.load(dir, Device.CPU), batch);
        try (MappedModel mapped = MappedModel.open(dir, config)) {
            assertClose(copied, logits(mapped.model(), batch), 1e-4);
        }
    }

    @Test
    void aMissingOrMisshapedTensorIsNamedWithTheFolder() throws IOException {
        Path dir = tmp.resolve("bad");
        NvlmConfig config = PublishedFolders.internVl(dir, DType.BF16, Long.MAX_VALUE);
        Map<String, Tensor> w = Safetensors.load(dir.resolve("model.safetensors"));
        w.remove("language_model.model.norm.weight");
        w.put("mlp1.3.bias", Tensor.zeros(5));
        Safetensors.save(dir.resolve("model.safetensors"), w);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MappedModel.open(dir, config));
        assertTrue(e.getMessage().startsWith(dir.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("missing (1): language_model.model.norm.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("mlp1.3.bias: checkpoint [5], model [64]"), e.getMessage());
    }
}
