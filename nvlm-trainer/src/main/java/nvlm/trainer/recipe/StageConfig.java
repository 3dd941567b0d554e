package nvlm.trainer.recipe;

import java.util.LinkedHashMap;
import java.util.Map;
import nvlm.model.Nvlm;
import nvlm.model.config.Architecture;
import nvlm.tensor.io.Json;
import nvlm.tensor.optim.CosineSchedule;

/**
 * Hyper-parameters of one training stage (docs/model.md §11): AdamW with a cosine schedule and linear
 * warmup, global-norm clipping, gradient accumulation. {@link PaperRecipe} gives the paper's values.
 *
 * @param stage             which parts train ({@link Stage#applyTo})
 * @param peakLr            learning rate at the end of warmup
 * @param minLr             learning rate the cosine decays to at {@code totalSteps}
 * @param warmupSteps       linear warmup from 0 to {@code peakLr}
 * @param totalSteps        optimizer steps of the stage
 * @param beta1             AdamW first-moment decay
 * @param beta2             AdamW second-moment decay
 * @param eps               AdamW epsilon
 * @param weightDecay       decoupled weight decay of the decayed group ({@link nvlm.trainer.train.ParameterGroups})
 * @param clipNorm          maximum global gradient norm; 0 turns clipping off
 * @param microBatchSize    rows per micro-batch (carried for the data source)
 * @param gradAccumulation  micro-batches per optimizer step
 * @param textOnlyRatio     fraction of text-only samples in the blend (carried for the data source, docs/model.md §11 stage 2)
 * @param seed              data-order seed (carried for the data source; the trainer itself draws no random numbers)
 * @param frozenLlm         stage 2 only: keep the LLM frozen and train what stage 1 trains (the paper's Table 9
 *                          ablation for NVLM-X); false in every recipe of the paper
 */
public record StageConfig(Stage stage, double peakLr, double minLr, int warmupSteps, int totalSteps,
                          double beta1, double beta2, double eps, double weightDecay, double clipNorm,
                          int microBatchSize, int gradAccumulation, double textOnlyRatio, long seed, boolean frozenLlm) {

    public StageConfig {
        if (stage == null) {
            throw new IllegalArgumentException("stage config: stage is missing");
        }
        check(peakLr >= 0 && Double.isFinite(peakLr), "peak_lr", peakLr, ">= 0");
        check(minLr >= 0 && minLr <= peakLr, "min_lr", minLr, "in [0, peak_lr " + peakLr + "]");
        check(totalSteps > 0, "total_steps", totalSteps, "> 0");
        check(warmupSteps >= 0 && warmupSteps <= totalSteps, "warmup_steps", warmupSteps, "in [0, total_steps " + totalSteps + "]");
        check(beta1 >= 0 && beta1 < 1, "beta1", beta1, "in [0, 1)");
        check(beta2 >= 0 && beta2 < 1, "beta2", beta2, "in [0, 1)");
        check(eps > 0, "eps", eps, "> 0");
        check(weightDecay >= 0, "weight_decay", weightDecay, ">= 0");
        check(clipNorm >= 0 && Double.isFinite(clipNorm), "clip_norm", clipNorm, ">= 0 (0 = no clipping)");
        check(microBatchSize > 0, "micro_batch_size", microBatchSize, "> 0");
        check(gradAccumulation > 0, "grad_accumulation", gradAccumulation, "> 0");
        check(textOnlyRatio >= 0 && textOnlyRatio <= 1, "text_only_ratio", textOnlyRatio, "in [0, 1]");
        if (frozenLlm && stage != Stage.SFT) {
            throw new IllegalArgumentException("stage config: frozen_llm applies to stage 2 (SFT) only, got stage " + stage.number());
        }
    }

    /** The paper's stage without the frozen-LLM ablation. */
    public StageConfig(Stage stage, double peakLr, double minLr, int warmupSteps, int totalSteps,
                       double beta1, double beta2, double eps, double weightDecay, double clipNorm,
                       int microBatchSize, int gradAccumulation, double textOnlyRatio, long seed) {
        this(stage, peakLr, minLr, warmupSteps, totalSteps, beta1, beta2, eps, weightDecay, clipNorm, microBatchSize,
                gradAccumulation, textOnlyRatio, seed, false);
    }

    /**
     * Sets every parameter's trainable flag: the stage's parts ({@link Stage#applyTo}), or with
     * {@link #frozenLlm} what stage 1 trains (projector, cross-attention blocks), the LLM frozen.
     */
    public void applyTo(Nvlm model) {
        (frozenLlm ? Stage.PRETRAINING : stage).applyTo(model);
    }

    /** What {@link #applyTo} trains, in words. */
    public String trainedParts(Architecture architecture) {
        return frozenLlm ? Stage.PRETRAINING.trainedParts(architecture) + ", the LLM frozen" : stage.trainedParts(architecture);
    }

    /** This stage with the LLM frozen (stage 2 only, see {@link #frozenLlm}). */
    public StageConfig withFrozenLlm(boolean frozen) {
        return new StageConfig(stage, peakLr, minLr, warmupSteps, totalSteps, beta1, beta2, eps, weightDecay, clipNorm,
                microBatchSize, gradAccumulation, textOnlyRatio, seed, frozen);
    }

    private static void check(boolean ok, String field, double value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException("stage config: " + field + " must be " + expected + ", got " + value);
        }
    }

    /** Learning rate per 1-based step: linear warmup, then cosine to {@code minLr}. */
    public CosineSchedule schedule() {
        return new CosineSchedule(peakLr, minLr, warmupSteps, totalSteps);
    }

    /** Rows per optimizer step. */
    public int globalBatchSize() {
        return microBatchSize * gradAccumulation;
    }

    public StageConfig withLearningRates(double peak, double min) {
        return new StageConfig(stage, peak, min, warmupSteps, totalSteps, beta1, beta2, eps, weightDecay, clipNorm,
                microBatchSize, gradAccumulation, textOnlyRatio, seed, frozenLlm);
    }

    /** Total and warmup steps. */
    public StageConfig withSteps(int total, int warmup) {
        return new StageConfig(stage, peakLr, minLr, warmup, total, beta1, beta2, eps, weightDecay, clipNorm,
                microBatchSize, gradAccumulation, textOnlyRatio, seed, frozenLlm);
    }

    public StageConfig withBatch(int microBatch, int accumulation) {
        return new StageConfig(stage, peakLr, minLr, warmupSteps, totalSteps, beta1, beta2, eps, weightDecay, clipNorm,
                microBatch, accumulation, textOnlyRatio, seed, frozenLlm);
    }

    public StageConfig withClipNorm(double clip) {
        return new StageConfig(stage, peakLr, minLr, warmupSteps, totalSteps, beta1, beta2, eps, weightDecay, clip,
                microBatchSize, gradAccumulation, textOnlyRatio, seed, frozenLlm);
    }

    public StageConfig withWeightDecay(double wd) {
        return new StageConfig(stage, peakLr, minLr, warmupSteps, totalSteps, beta1, beta2, eps, wd, clipNorm,
                microBatchSize, gradAccumulation, textOnlyRatio, seed, frozenLlm);
    }

    public StageConfig withTextOnlyRatio(double ratio) {
        return new StageConfig(stage, peakLr, minLr, warmupSteps, totalSteps, beta1, beta2, eps, weightDecay, clipNorm,
                microBatchSize, gradAccumulation, ratio, seed, frozenLlm);
    }

    public StageConfig withSeed(long newSeed) {
        return new StageConfig(stage, peakLr, minLr, warmupSteps, totalSteps, beta1, beta2, eps, weightDecay, clipNorm,
                microBatchSize, gradAccumulation, textOnlyRatio, newSeed, frozenLlm);
    }

    // ------------------------------------------------------------------ JSON (stage.json, trainer.json)

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stage", (long) stage.number());
        m.put("peak_lr", peakLr);
        m.put("min_lr", minLr);
        m.put("warmup_steps", (long) warmupSteps);
        m.put("total_steps", (long) totalSteps);
        m.put("beta1", beta1);
        m.put("beta2", beta2);
        m.put("eps", eps);
        m.put("weight_decay", weightDecay);
        m.put("clip_norm", clipNorm);
        m.put("micro_batch_size", (long) microBatchSize);
        m.put("grad_accumulation", (long) gradAccumulation);
        m.put("text_only_ratio", textOnlyRatio);
        m.put("seed", seed);
        if (frozenLlm) {
            m.put("frozen_llm", true); // absent otherwise, so the paper's stages read as they always did
        }
        return m;
    }

    /** Parses {@link #toJson}; {@code source} names the file in errors. Doubles round-trip exactly. */
    public static StageConfig fromJson(Map<String, Object> m, String source) {
        try {
            return new StageConfig(Stage.of((int) integer(m, "stage", source)), number(m, "peak_lr", source),
                    number(m, "min_lr", source), (int) integer(m, "warmup_steps", source), (int) integer(m, "total_steps", source),
                    number(m, "beta1", source), number(m, "beta2", source), number(m, "eps", source),
                    number(m, "weight_decay", source), number(m, "clip_norm", source),
                    (int) integer(m, "micro_batch_size", source), (int) integer(m, "grad_accumulation", source),
                    number(m, "text_only_ratio", source), integer(m, "seed", source), frozenLlm(m, source));
        } catch (IllegalArgumentException e) {
            throw e.getMessage().startsWith(source) ? e : new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    public static StageConfig fromJson(String text, String source) {
        return fromJson(Json.parseObject(text), source);
    }

    private static double number(Map<String, Object> m, String key, String source) {
        if (!(m.get(key) instanceof Number n)) {
            throw new IllegalArgumentException(source + ": field '" + key + "' must be a number, got "
                    + (m.containsKey(key) ? Json.typeName(m.get(key)) : "nothing"));
        }
        return n.doubleValue();
    }

    private static boolean frozenLlm(Map<String, Object> m, String source) {
        Object v = m.getOrDefault("frozen_llm", false);
        if (!(v instanceof Boolean b)) {
            throw new IllegalArgumentException(source + ": field 'frozen_llm' must be true or false, got " + Json.typeName(v));
        }
        return b;
    }

    private static long integer(Map<String, Object> m, String key, String source) {
        if (!(m.get(key) instanceof Long n)) {
            throw new IllegalArgumentException(source + ": field '" + key + "' must be an integer, got "
                    + (m.containsKey(key) ? Json.typeName(m.get(key)) : "nothing"));
        }
        return n;
    }
}
