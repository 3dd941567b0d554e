package nvlm.trainer.backbone;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.kernels.DType;
import nvlm.model.config.VisionConfig;
import nvlm.tensor.GradMode;
import nvlm.tensor.MemoryScope;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Parameter;
import nvlm.tensor.optim.AdamW;
import nvlm.tensor.optim.CosineSchedule;
import nvlm.tensor.optim.GradClip;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.train.MetricsLog;
import nvlm.trainer.train.ParameterGroups;
import nvlm.trainer.train.ProgressBar;
import nvlm.trainer.recipe.BackboneRecipe;

/**
 * Stage 0 of the vision encoder ({@link BackboneRecipe}): InternViT and a throwaway head learn to
 * tell every cell's symbol from pixels ({@link CellClassifier}, {@link CellBatch}). Step {@code s}
 * trains on pictures {@code (s-1)*B .. s*B-1} of the training split, so the run is a pure
 * function of the recipe. AdamW (no decay on vectors, {@link ParameterGroups#decays}), cosine
 * with linear warmup, global-norm clipping; {@code metrics.jsonl} in the run folder.
 */
public final class VisionPretraining {
    /** Metric records tagged with this stage number (the vision half of stage 0). */
    static final long STAGE = 0;

    private VisionPretraining() {
    }

    /** Trains a fresh classifier; progress goes to {@code out}, metrics to {@code runDir/metrics.jsonl}. */
    public static CellClassifier run(BackboneRecipe recipe, VisionConfig config, SyntheticWorld world, Path runDir, PrintStream out,
                                     ProgressBar.Mode mode) throws IOException {
        Files.createDirectories(runDir);
        CellClassifier model = new CellClassifier(config, new SplittableRandom(recipe.seed()));
        model.train(true);
        List<Parameter> decay = new ArrayList<>();
        List<Parameter> noDecay = new ArrayList<>();
        for (Parameter p : model.parameters()) {
            (ParameterGroups.decays(p) ? decay : noDecay).add(p);
        }
        AdamW optimizer = new AdamW(List.of(
                new AdamW.Group(decay, recipe.visionLr(), recipe.weightDecay(), BackboneRecipe.BETA1, BackboneRecipe.BETA2,
                        BackboneRecipe.EPS),
                new AdamW.Group(noDecay, recipe.visionLr(), 0.0, BackboneRecipe.BETA1, BackboneRecipe.BETA2, BackboneRecipe.EPS)));
        List<Parameter> params = model.parameters();
        int steps = recipe.visionSteps();
        CosineSchedule schedule = new CosineSchedule(recipe.visionLr(), recipe.visionLr() / 10, BackboneRecipe.warmup(steps), steps);
        ProgressBar bar = new ProgressBar(out, mode, "stage 0 vision", steps, ProgressBar.defaultLinesEvery(steps));
        bar.message(String.format(Locale.ROOT, "stage 0 (vision encoder): InternViT + a throwaway head telling each image token's cell"
                + " symbol; %,d parameters; %d steps of %d pictures", model.parameterCount(), steps, recipe.visionImages()));
        int tokensPerTile = (config.gridSize() / 2) * (config.gridSize() / 2);
        long start = System.nanoTime();
        double smoothed = 0;
        long tiles = 0;
        try (MetricsLog metrics = MetricsLog.open(runDir.resolve(MetricsLog.FILE), 0)) {
            for (int step = 1; step <= steps; step++) {
                long t0 = System.nanoTime();
                CellBatch batch = CellBatch.of(world, Split.TRAIN, (long) (step - 1) * recipe.visionImages(), recipe.visionImages());
                double loss;
                double norm;
                double lr = schedule.lr(step);
                try (var _ = MemoryScope.open()) {
                    Tensor l = model.loss(batch.pixels(), batch.targets());
                    loss = l.item();
                    if (!Double.isFinite(loss)) {
                        throw new IllegalStateException("stage 0 vision: loss is " + loss + " at step " + step + "; lower --vision-lr");
                    }
                    l.backward(Tensor.full(l.device(), DType.F32, 1.0));
                    norm = GradClip.clipGlobalNorm(params, recipe.clipNorm() > 0 ? recipe.clipNorm() : Double.POSITIVE_INFINITY);
                    optimizer.setLearningRate(lr);
                    optimizer.step();
                    optimizer.zeroGrad();
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                tiles += batch.tiles();
                smoothed = 0.9 * smoothed + 0.1 * loss;
                double elapsed = (System.nanoTime() - start) / 1e9;
                Map<String, Object> record = new LinkedHashMap<>();
                record.put("type", "train");
                record.put("stage", STAGE);
                record.put("part", "vision");
                record.put("step", (long) step);
                record.put("loss", loss);
                record.put("lr", lr);
                record.put("grad_norm", norm);
                record.put("samples", (long) recipe.visionImages());
                record.put("tiles", (long) batch.tiles());
                record.put("tokens", (long) batch.tiles() * tokensPerTile);
                record.put("seconds", seconds);
                record.put("samples_per_s", recipe.visionImages() / seconds);
                metrics.append(record);
                // Tokens: the image tokens the head is trained on (cells of the regular tiles).
                bar.update(step, smoothed / (1 - Math.pow(0.9, step)), lr, tiles * tokensPerTile / elapsed, step * recipe.visionImages() / elapsed,
                        (steps - step) * elapsed / step);
            }
        } finally {
            bar.finish();
        }
        return model;
    }

    /** Cell accuracy on the first {@code images} pictures of {@code split}. */
    public static CellAccuracy evaluate(CellClassifier model, SyntheticWorld world, Split split, int images) {
        boolean training = model.isTraining();
        model.eval();
        List<long[]> targets = new ArrayList<>();
        List<long[]> predicted = new ArrayList<>();
        int chunk = 16;
        try (var _ = GradMode.disabled()) {
            for (int first = 0; first < images; first += chunk) {
                try (var _ = MemoryScope.open()) {
                    CellBatch batch = CellBatch.of(world, split, first, Math.min(chunk, images - first));
                    targets.add(batch.targets().toLongArray());
                    predicted.add(model.logits(batch.pixels()).argmax(1, false).toLongArray());
                }
            }
        } finally {
            model.train(training);
        }
        int n = targets.stream().mapToInt(t -> t.length).sum();
        long[] t = new long[n];
        long[] p = new long[n];
        int at = 0;
        for (int i = 0; i < targets.size(); i++) {
            System.arraycopy(targets.get(i), 0, t, at, targets.get(i).length);
            System.arraycopy(predicted.get(i), 0, p, at, predicted.get(i).length);
            at += targets.get(i).length;
        }
        return CellAccuracy.of(t, p);
    }
}
