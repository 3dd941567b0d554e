package nvlm.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import nvlm.model.Batch;
import nvlm.model.config.Architecture;
import nvlm.tensor.MemoryScope;
import nvlm.tensor.nn.Parameter;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import nvlm.trainer.recipe.Stage;
import nvlm.trainer.recipe.StageConfig;
import nvlm.trainer.recipe.PaperRecipe;

/**
 * Accumulating k micro-batches of m rows gives the gradient of one batch of k*m rows, because
 * each micro-batch's mean loss is weighted by its share of the step's labelled tokens (docs/model.md §8:
 * the loss is the mean over every labelled token of the batch).
 */
class GradientAccumulationTest {
    private static final int K = 3;
    private static final int M = 2;
    /**
     * Tolerance relative to each gradient tensor's largest magnitude. The two computations agree
     * in exact arithmetic; in f32 they differ by the order of the sums over rows (k partial GEMM
     * sums added vs one long sum) and by the rounding of the backward seed (n_i/N as f32, then
     * divided by n_i) against 1/N: a few ulps of each of O(100) terms, well under 1e-5 of the
     * largest entry (about 170 ulps).
     */
    private static final double GRADIENT_TOLERANCE = 1e-5;
    /** The loss is a double sum of k f32 micro-losses vs one f32 mean: about one f32 ulp apart. */
    private static final double LOSS_TOLERANCE = 1e-6;

    @TempDir
    Path dir;

    private record Result(double loss, Map<String, float[]> grads, Map<String, Float> scale) {
    }

    private Result gradients(Architecture arch, BatchSource source, int accumulation, String name) throws Exception {
        StageConfig config = PaperRecipe.toy(arch, Stage.SFT).withBatch(M, accumulation);
        Trainer trainer = Trainer.start(TinyWorld.model(arch, 9), config, source, dir.resolve(name), TrainerOptions.quiet(0));
        try (var _ = MemoryScope.open()) {
            Trainer.Accumulated acc = trainer.accumulateGradients(1);
            Map<String, float[]> grads = new LinkedHashMap<>();
            Map<String, Float> scale = new LinkedHashMap<>();
            for (Map.Entry<String, Parameter> e : trainer.trainableParameters().entrySet()) {
                float[] g = e.getValue().grad().toFloatArray();
                grads.put(e.getKey(), g);
                float max = 0;
                for (float v : g) {
                    max = Math.max(max, Math.abs(v));
                }
                scale.put(e.getKey(), max);
            }
            return new Result(acc.loss(), grads, scale);
        }
    }

    /** Rows of micro-batch i of a k x m source are rows [i*m, (i+1)*m) of the one-batch source. */
    private record OneBatch(TinyWorld.Source rows, int count) implements BatchSource {
        @Override
        public Batch batch(long step, int microStep) {
            return rows.rows(step, 0, count);
        }
    }

    @ParameterizedTest
    @CsvSource({"D, false", "D, true", "X, true", "H, false"})
    void accumulatedMicroBatchesEqualOneBatchOfAllRows(Architecture arch, boolean unequalLabelCounts) throws Exception {
        TinyWorld.Source micro = new TinyWorld.Source(arch, 4, M, arch == Architecture.H ? 3 : 1, 4, unequalLabelCounts);
        Set<Long> counts = new HashSet<>();
        double plainMean = 0;
        for (int i = 0; i < K; i++) {
            counts.add(Trainer.labelledTokens(micro.batch(1, i)));
        }
        assertEquals(unequalLabelCounts, counts.size() > 1, "micro-batch label counts " + counts);

        Result accumulated = gradients(arch, micro, K, "accumulated");
        Result single = gradients(arch, new OneBatch(new TinyWorld.Source(arch, 4, K * M, micro.tiles(), 4, unequalLabelCounts),
                K * M), 1, "single");

        assertEquals(single.loss(), accumulated.loss(), LOSS_TOLERANCE * single.loss(), "step loss");
        int nonZero = 0;
        for (String name : single.grads().keySet()) {
            float[] a = accumulated.grads().get(name);
            float[] b = single.grads().get(name);
            double tolerance = GRADIENT_TOLERANCE * single.scale().get(name) + 1e-30;
            for (int j = 0; j < b.length; j++) {
                if (Math.abs(a[j] - b[j]) > tolerance) {
                    throw new AssertionError(name + "[" + j + "]: accumulated " + a[j] + " vs one batch " + b[j]
                            + " (tolerance " + tolerance + ")");
                }
            }
            if (single.scale().get(name) > 0) {
                nonZero++;
            }
        }
        assertTrue(nonZero > single.grads().size() / 2, "most gradients are non-zero: " + nonZero + " of " + single.grads().size());
        if (unequalLabelCounts) {
            // With unequal counts, weighting micro-batches equally (loss / k) would be measurably wrong.
            Trainer probe = Trainer.start(TinyWorld.model(arch, 9), PaperRecipe.toy(arch, Stage.SFT).withBatch(M, 1), micro,
                    dir.resolve("probe"), TrainerOptions.quiet(0));
            try (var _ = MemoryScope.open(); var _ = nvlm.tensor.GradMode.disabled()) {
                for (int i = 0; i < K; i++) {
                    plainMean += probe.model().forward(micro.batch(1, i)).loss().item() / K;
                }
            }
            assertNotEquals(single.loss(), plainMean, 100 * LOSS_TOLERANCE * single.loss());
        }
    }
}
