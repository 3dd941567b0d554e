package nvlm.trainer.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.model.Batch;
import nvlm.model.Nvlm;
import nvlm.model.config.Architecture;
import nvlm.model.config.LlmConfig;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.VisionConfig;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;

/**
 * Test fixtures: a model smaller than the tiny preset (ViT width 16, 1 layer, 56 px tiles with
 * 4 image tokens each; decoder width 32, 2 layers, vocabulary 64) and a {@link BatchSource} of
 * random but valid batches (docs/model.md §10) for each architecture.
 */
public final class TinyWorld {
    static final long PAD = 0;
    static final long IM_END = 1;
    static final long IMAGE_CONTEXT = 2;
    static final long IMAGE_START = 3;
    static final long IMAGE_END = 4;
    static final long FIRST_TAG = 5;
    static final long THUMBNAIL_TAG = 12;
    static final long FIRST_TEXT = 13;
    static final int VOCAB = 64;
    static final int TILE = 56;

    private TinyWorld() {
    }

    public static NvlmConfig config(Architecture arch) {
        VisionConfig vision = new VisionConfig(TILE, 14, 16, 2, 1, 32, "rms_norm", 1e-6, true, false, 0);
        LlmConfig llm = new LlmConfig(32, 2, 2, 1, 64, VOCAB, 1e-6, 1e4, false);
        return new NvlmConfig(arch, "test", vision, 0.5, new NvlmConfig.ProjectorConfig(32, true), llm,
                arch == Architecture.D ? 0 : 1, new NvlmConfig.TilingConfig(1, 6, true, "1d"),
                new nvlm.model.config.SpecialTokens((int) IMAGE_CONTEXT, (int) PAD, (int) IM_END));
    }

    public static Nvlm model(Architecture arch, long seed) {
        Nvlm model = Nvlm.create(config(arch), new SplittableRandom(seed));
        if (arch != Architecture.D) {
            // Open the gates a little, as stage 1 would after a few steps, so the cross-attention
            // blocks take part from the first step (they start at 0, docs/model.md §7).
            for (var block : model.languageModel().crossAttentionBlocks()) {
                block.attnGate().set(Tensor.of(new float[] {0.3f}, 1));
                block.ffGate().set(Tensor.of(new float[] {-0.2f}, 1));
            }
        }
        return model;
    }

    /**
     * Random batches: every row holds one image of {@code tiles} tiles (1, or a grid plus the
     * thumbnail), a question and {@code answer} labelled tokens plus {@code <|im_end|>}. Row r of
     * micro-batch i of step s is row {@code i * rows + r} of the step, drawn from
     * (seed, step, global row) alone, so k micro-batches of m rows hold exactly the rows of one
     * batch of k * m rows.
     */
    public record Source(Architecture arch, long seed, int rows, int tiles, int answer, boolean varyAnswers) implements BatchSource {
        @Override
        public Batch batch(long step, int microStep) {
            return rows(step, microStep * rows, rows);
        }

        Batch rows(long step, int firstRow, int count) {
            int tokensPerTile = config(arch).tokensPerTile();
            int length = 2 + 1 + tiles * (1 + tokensPerTile) + 1 + 3 + answer + 1 + 1;
            long[] ids = new long[count * length];
            long[] labels = new long[count * length];
            long[] mediaImage = new long[count * length];
            long[] mediaTile = new long[count * length];
            Arrays.fill(labels, F.IGNORE_INDEX);
            Arrays.fill(mediaImage, -1);
            Arrays.fill(mediaTile, -1);
            float[] pixels = new float[count * tiles * 3 * TILE * TILE];
            long[] tagIds = new long[count * tiles];
            for (int r = 0; r < count; r++) {
                SplittableRandom rng = new SplittableRandom(seed * 1_000_003L + step * 7919L + (firstRow + r));
                List<long[]> row = new ArrayList<>(); // {id, label, mediaImage, mediaTile}
                row.add(new long[] {text(rng), F.IGNORE_INDEX, -1, -1});
                row.add(new long[] {text(rng), F.IGNORE_INDEX, -1, -1});
                row.add(new long[] {IMAGE_START, F.IGNORE_INDEX, r, -1});
                for (int k = 0; k < tiles; k++) {
                    long tag = tiles == 1 || k == tiles - 1 ? THUMBNAIL_TAG : FIRST_TAG + k;
                    tagIds[r * tiles + k] = tag;
                    boolean inSequence = switch (arch) {
                        case D -> true;
                        case X -> false;
                        case H -> k == tiles - 1; // the thumbnail (or the single tile)
                    };
                    if (arch == Architecture.H && !inSequence) {
                        continue; // H: regular tiles and their tags live in cross-attention memory
                    }
                    row.add(new long[] {tag, F.IGNORE_INDEX, r, arch == Architecture.X ? k : -1});
                    if (inSequence) {
                        for (int t = 0; t < tokensPerTile; t++) {
                            row.add(new long[] {IMAGE_CONTEXT, F.IGNORE_INDEX, r, -1});
                        }
                    }
                }
                row.add(new long[] {IMAGE_END, F.IGNORE_INDEX, r, -1});
                int question = 1 + rng.nextInt(3);
                for (int q = 0; q < question; q++) {
                    row.add(new long[] {text(rng), F.IGNORE_INDEX, r, -1});
                }
                int answerLength = varyAnswers ? 1 + rng.nextInt(answer) : answer;
                for (int a = 0; a < answerLength; a++) {
                    long t = text(rng);
                    row.add(new long[] {t, t, r, -1});
                }
                row.add(new long[] {IM_END, IM_END, r, -1});
                if (row.size() > length) {
                    throw new IllegalStateException("row of " + row.size() + " tokens exceeds " + length);
                }
                for (int t = 0; t < length; t++) {
                    long[] token = t < row.size() ? row.get(t) : new long[] {PAD, F.IGNORE_INDEX, -1, -1};
                    ids[r * length + t] = token[0];
                    labels[r * length + t] = token[1];
                    mediaImage[r * length + t] = token[2];
                    mediaTile[r * length + t] = token[3];
                }
                int base = r * tiles * 3 * TILE * TILE;
                for (int i = 0; i < tiles * 3 * TILE * TILE; i++) {
                    pixels[base + i] = (float) rng.nextGaussian();
                }
            }
            long[] imageTiles = new long[count];
            long[] imageRow = new long[count];
            for (int r = 0; r < count; r++) {
                imageTiles[r] = tiles;
                imageRow[r] = r;
            }
            return new Batch(Tensor.of(ids, count, length), Tensor.of(labels, count, length),
                    Tensor.of(pixels, count * tiles, 3, TILE, TILE), Tensor.of(imageTiles, count), Tensor.of(imageRow, count),
                    Tensor.of(tagIds, count * tiles, 1), Tensor.of(mediaImage, count, length), Tensor.of(mediaTile, count, length));
        }

        private static long text(SplittableRandom rng) {
            return FIRST_TEXT + rng.nextInt(VOCAB - (int) FIRST_TEXT);
        }
    }

    public static Source source(Architecture arch, long seed, int rows) {
        return new Source(arch, seed, rows, arch == Architecture.H ? 3 : 1, 4, false);
    }

    /** Every parameter's raw bytes by name (bit-exact comparisons). */
    public static Map<String, byte[]> snapshot(Nvlm model) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        model.namedParameters().forEach((name, p) -> out.put(name, p.value().toBytes()));
        return out;
    }

    /** The optimizer state's raw bytes by name. */
    static Map<String, byte[]> optimizerSnapshot(Trainer trainer) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        trainer.optimizer().stateDict(trainer.trainableParameters()).forEach((name, t) -> out.put(name, t.toBytes()));
        return out;
    }

    /** Names whose bytes differ between two snapshots. */
    public static List<String> differing(Map<String, byte[]> a, Map<String, byte[]> b) {
        if (!a.keySet().equals(b.keySet())) {
            throw new AssertionError("different tensor names: " + a.keySet() + " vs " + b.keySet());
        }
        List<String> out = new ArrayList<>();
        a.forEach((name, bytes) -> {
            if (!Arrays.equals(bytes, b.get(name))) {
                out.add(name);
            }
        });
        return out;
    }
}
