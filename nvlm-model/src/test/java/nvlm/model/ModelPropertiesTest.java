package nvlm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.prompt.Sample;
import nvlm.model.xattn.CrossAttentionContext;
import nvlm.model.xattn.GatedCrossAttention;
import nvlm.tensor.GradMode;
import nvlm.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ModelPropertiesTest {

    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"X", "H"})
    void textOnlySamplesPassThroughCrossAttentionUnchanged(Architecture arch) {
        Nvlm model = Fixtures.model(arch, 3);
        NvlmConfig config = model.config();
        SplittableRandom rng = new SplittableRandom(4);
        Sample withImage = Fixtures.sample(config, Fixtures.randomImage(rng, 300, 200), "What is it?", "A cat.");
        Sample textOnly = Fixtures.sample(config, null, "What is 2+3?", "5");
        Batch mixed = Fixtures.batch(config, List.of(withImage, textOnly));
        Batch alone = Fixtures.batch(config, List.of(textOnly));
        try (var noGrad = GradMode.disabled()) {
            // The text-only row through X/H (its batch-mate has an image, so the blocks run) ...
            Tensor logits = model.forward(mixed).logits().select(0, 1).narrow(0, 0, alone.length());
            // ... equals the plain decoder on that row (no cross-attention block at all).
            Nvlm.Inputs in = model.prepare(alone);
            Tensor plain = model.languageModel().logits(model.languageModel().hidden(in.embeddings(), null, null)).select(0, 0);
            assertClose(plain, logits, 1e-6);
        }
    }

    @Test
    void pixelShuffleIsAPermutationInSpecOrder() {
        int g = 6;
        int c = 3;
        float[] values = new float[2 * g * g * c];
        for (int i = 0; i < values.length; i++) {
            values[i] = i;
        }
        Tensor in = Tensor.of(values, 2, (long) g * g, c);
        float[] out = PixelShuffle.apply(in, g).toFloatArray();
        float[] sorted = out.clone();
        Arrays.sort(sorted);
        assertArrayEquals(values, sorted, "every input value appears exactly once");
        int h = g / 2;
        for (int n = 0; n < 2; n++) {
            for (int y2 = 0; y2 < h; y2++) {
                for (int x2 = 0; x2 < h; x2++) {
                    int[][] order = {{2 * y2, 2 * x2}, {2 * y2, 2 * x2 + 1}, {2 * y2 + 1, 2 * x2}, {2 * y2 + 1, 2 * x2 + 1}};
                    for (int part = 0; part < 4; part++) {
                        for (int ch = 0; ch < c; ch++) {
                            int src = ((n * g * g) + order[part][0] * g + order[part][1]) * c + ch;
                            int dst = ((n * h * h) + y2 * h + x2) * 4 * c + part * c + ch;
                            assertEquals(values[src], out[dst]);
                        }
                    }
                }
            }
        }
    }

    /**
     * NVLM-X, and NVLM-H with its tags in the sequence (docs/model.md §7): a position in tile j's
     * tag span sees tile j only, every other position of the image sees all of it (in H the
     * thumbnail's tag too, since the thumbnail has no block in H's memory).
     */
    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"X", "H"})
    void changingOneTileMovesCrossAttentionOnlyAtItsTagAndWholeImagePositions(Architecture arch) {
        NvlmConfig config = arch == Architecture.H ? Fixtures.tiny(arch).withTagsInSequence(true) : Fixtures.tiny(arch);
        Nvlm model = Fixtures.model(config, 5);
        SplittableRandom rng = new SplittableRandom(6);
        nvlm.model.tiling.RgbImage image = Fixtures.randomImage(rng, 336, 224); // 3x2 grid + thumbnail
        Sample sample = Fixtures.sample(config, image, "Read it.", "OK");
        Batch batch = Fixtures.batch(config, List.of(sample));
        int tile = 2;
        int perTile = 3 * config.vision().imageSize() * config.vision().imageSize();
        float[] pixels = batch.pixelValues().toFloatArray();
        for (int i = tile * perTile; i < (tile + 1) * perTile; i++) {
            pixels[i] = -pixels[i];
        }
        Batch changed = new Batch(batch.inputIds(), batch.labels(), Tensor.of(pixels, batch.pixelValues().shape()),
                batch.imageTiles(), batch.imageRow(), batch.tileTagIds(), batch.mediaImage(), batch.mediaTile());
        float[] before = firstBlock(model, batch);
        float[] after = firstBlock(model, changed);
        long[] mediaImage = batch.mediaImage().toLongArray();
        long[] mediaTile = batch.mediaTile().toLongArray();
        int d = config.llm().hiddenSize();
        int moved = 0;
        for (int t = 0; t < mediaImage.length; t++) {
            boolean thumbnailTag = arch == Architecture.H && mediaTile[t] == sample.imageTiles()[0] - 1;
            boolean expectChange = mediaImage[t] == 0 && (mediaTile[t] == tile || mediaTile[t] == -1 || thumbnailTag);
            boolean changedHere = !Arrays.equals(Arrays.copyOfRange(before, t * d, (t + 1) * d),
                    Arrays.copyOfRange(after, t * d, (t + 1) * d));
            assertEquals(expectChange, changedHere, "position " + t + " (media_image " + mediaImage[t] + ", media_tile "
                    + mediaTile[t] + ")");
            moved += changedHere ? 1 : 0;
        }
        assertTrue(moved > 0);
        assertTrue(Arrays.stream(mediaTile).filter(j -> j >= 0 && j != tile && j < sample.imageTiles()[0] - 1).count() > 0,
                "other tags exist and stayed");
    }

    /**
     * Attention reads its memory as a set: swapping two regular tiles' pictures leaves every position
     * that sees the whole image unchanged (up to summation order), so without tagged memory nothing
     * there can tell tile 1 from tile 2. With tagged memory (docs/model.md §7) those positions move.
     */
    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"X", "H"})
    void onlyTaggedMemoryTellsTwoSwappedTilesApart(Architecture arch) {
        NvlmConfig plainConfig = Fixtures.tiny(arch);
        Nvlm plain = Fixtures.model(plainConfig, 11);
        Nvlm tagged = Fixtures.model(plainConfig.withTaggedMemory(true), 11);
        SplittableRandom rng = new SplittableRandom(12);
        Sample sample = Fixtures.sample(plainConfig, Fixtures.randomImage(rng, 336, 224), "Read tile 2.", "OK"); // 3x2 + thumbnail
        Batch batch = Fixtures.batch(plainConfig, List.of(sample));
        int perTile = 3 * plainConfig.vision().imageSize() * plainConfig.vision().imageSize();
        float[] pixels = batch.pixelValues().toFloatArray();
        float[] swappedPixels = pixels.clone();
        System.arraycopy(pixels, 0, swappedPixels, perTile, perTile);
        System.arraycopy(pixels, perTile, swappedPixels, 0, perTile);
        Batch swapped = new Batch(batch.inputIds(), batch.labels(), Tensor.of(swappedPixels, batch.pixelValues().shape()),
                batch.imageTiles(), batch.imageRow(), batch.tileTagIds(), batch.mediaImage(), batch.mediaTile());

        long[] mediaImage = batch.mediaImage().toLongArray();
        long[] mediaTile = batch.mediaTile().toLongArray();
        int d = plainConfig.llm().hiddenSize();
        int[] wholeImage = java.util.stream.IntStream.range(0, mediaImage.length)
                .filter(t -> mediaImage[t] == 0 && (arch == Architecture.H || mediaTile[t] == -1)).toArray();
        assertTrue(wholeImage.length > 0);
        float[] plainBefore = firstBlock(plain, batch);
        float[] plainAfter = firstBlock(plain, swapped);
        float[] taggedBefore = firstBlock(tagged, batch);
        float[] taggedAfter = firstBlock(tagged, swapped);
        double plainChange = 0;
        double taggedChange = 0;
        double scale = 0;
        for (int t : wholeImage) {
            for (int i = t * d; i < (t + 1) * d; i++) {
                plainChange = Math.max(plainChange, Math.abs(plainBefore[i] - plainAfter[i]));
                taggedChange = Math.max(taggedChange, Math.abs(taggedBefore[i] - taggedAfter[i]));
                scale = Math.max(scale, Math.abs(plainBefore[i]));
            }
        }
        assertTrue(plainChange <= 1e-6 * scale, arch + " without tagged memory moved by " + plainChange + " (scale " + scale + ")");
        assertTrue(taggedChange >= 1e-3 * scale, arch + " with tagged memory moved only by " + taggedChange + " (scale " + scale
                + ")");
    }

    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"X", "H"})
    void taggedMemoryRoundTripsThroughConfigJsonAndIsRefusedForD(Architecture arch) {
        NvlmConfig tagged = Fixtures.tiny(arch).withTaggedMemory(true);
        assertTrue(tagged.toJson().contains("\"tagged_memory\": true"), tagged.toJson());
        assertEquals(tagged, NvlmConfig.fromJson(tagged.toJson(), "round trip"));
        assertTrue(!Fixtures.tiny(arch).toJson().contains("tagged_memory"), "the paper's configs keep their old text");
        assertEquals(false, tagged.withArchitecture(Architecture.D).taggedMemory());
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Fixtures.tiny(Architecture.D).withTaggedMemory(true));
        assertTrue(e.getMessage().contains("tagged_memory"), e.getMessage());
    }

    @Test
    void tagsInSequenceRoundTripThroughConfigJsonAndAreRefusedForDAndX() {
        NvlmConfig seq = Fixtures.tiny(Architecture.H).withTagsInSequence(true);
        assertTrue(seq.toJson().contains("\"tags_in_sequence\": true"), seq.toJson());
        assertEquals(seq, NvlmConfig.fromJson(seq.toJson(), "round trip"));
        assertTrue(!Fixtures.tiny(Architecture.H).toJson().contains("tags_in_sequence"), "the paper's configs keep their old text");
        assertEquals(false, seq.withArchitecture(Architecture.X).tagsInSequence());
        assertEquals(true, seq.withTaggedMemory(true).tagsInSequence());
        for (Architecture arch : List.of(Architecture.D, Architecture.X)) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> Fixtures.tiny(arch).withTagsInSequence(true));
            assertTrue(e.getMessage().contains("tags_in_sequence"), e.getMessage());
        }
    }

    /** Output of the first gated cross-attention block applied to the input embeddings. */
    private static float[] firstBlock(Nvlm model, Batch batch) {
        try (var noGrad = GradMode.disabled()) {
            Nvlm.Inputs in = model.prepare(batch);
            GatedCrossAttention block = model.languageModel().crossAttentionBlocks().getFirst();
            CrossAttentionContext context = in.context();
            return block.forward(in.embeddings(), context).toFloatArray();
        }
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void kvCacheGenerationEqualsFullRecomputationTokenByToken(Architecture arch) {
        Nvlm model = Fixtures.model(arch, 7);
        NvlmConfig config = model.config();
        SplittableRandom rng = new SplittableRandom(8);
        var builder = Fixtures.builder(config);
        var conversation = List.of(nvlm.model.prompt.Message.user(
                Fixtures.image(config, Fixtures.randomImage(rng, 250, 120)), "Describe."));
        Sample prompt = builder.buildForGeneration(conversation);
        Batch batch = Fixtures.batch(config, List.of(prompt));
        Generator generator = new Generator(model);
        long[] generated = generator.generate(batch, Generator.Settings.greedy(6), token -> { });
        assertTrue(generated.length > 0);
        Batch extended = batch;
        for (long token : generated) {
            float[][] full = generator.fullLogits(extended);
            float[] last = full[full.length - 1];
            int best = 0;
            for (int i = 1; i < last.length; i++) {
                if (last[i] > last[best]) {
                    best = i;
                }
            }
            assertEquals(best, token, arch + ": the cached path picked another token than full recomputation");
            extended = append(extended, token);
        }
    }

    /** The batch with one more token at the end of its single row (after the last image). */
    static Batch append(Batch b, long token) {
        int t = (int) b.length();
        long[] ids = Arrays.copyOf(b.inputIds().toLongArray(), t + 1);
        ids[t] = token;
        long[] labels = Arrays.copyOf(b.labels().toLongArray(), t + 1);
        labels[t] = -100;
        long[] mi = Arrays.copyOf(b.mediaImage().toLongArray(), t + 1);
        mi[t] = mi[t - 1];
        long[] mt = Arrays.copyOf(b.mediaTile().toLongArray(), t + 1);
        mt[t] = -1;
        return new Batch(Tensor.of(ids, 1, t + 1), Tensor.of(labels, 1, t + 1), b.pixelValues(), b.imageTiles(),
                b.imageRow(), b.tileTagIds(), Tensor.of(mi, 1, t + 1), Tensor.of(mt, 1, t + 1));
    }

    static void assertClose(Tensor expected, Tensor actual, double tolerance) {
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        assertEquals(e.length, a.length);
        double max = 0;
        double err = 0;
        for (int i = 0; i < e.length; i++) {
            max = Math.max(max, Math.abs(e[i]));
            err = Math.max(err, Math.abs(e[i] - a[i]));
        }
        assertTrue(max > 0);
        assertTrue(err <= tolerance * max, "max error " + err + " vs largest value " + max);
    }
}
