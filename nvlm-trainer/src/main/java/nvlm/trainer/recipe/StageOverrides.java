package nvlm.trainer.recipe;


/**
 * Changes to a recipe's stage settings ({@code ./nvlm train}'s stage options); a null leaves the
 * recipe's value. Warmup is a tenth of the steps unless given, and a new peak learning rate keeps
 * the recipe's min/peak ratio unless the minimum is given too. {@code seed} orders the data.
 */
public record StageOverrides(Integer steps, Integer warmup, Double peakLr, Double minLr, Double beta1, Double beta2, Double eps,
                             Double weightDecay, Double clipNorm, Integer microBatch, Integer accumulation, Double textOnlyRatio,
                             long seed) {
    /** {@code base} changed; an impossible result (warmup past the end, a beta of 1) fails naming the setting. */
    public StageConfig applyTo(StageConfig base) {
        int total = or(steps, base.totalSteps());
        double peak = or(peakLr, base.peakLr());
        double min = minLr != null ? minLr : base.peakLr() > 0 ? peak * base.minLr() / base.peakLr() : 0;
        return new StageConfig(base.stage(), peak, min, or(warmup, Math.max(1, total / 10)), total, or(beta1, base.beta1()),
                or(beta2, base.beta2()), or(eps, base.eps()), or(weightDecay, base.weightDecay()), or(clipNorm, base.clipNorm()),
                or(microBatch, base.microBatchSize()), or(accumulation, base.gradAccumulation()),
                or(textOnlyRatio, base.textOnlyRatio()), seed);
    }

    private static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }
}
