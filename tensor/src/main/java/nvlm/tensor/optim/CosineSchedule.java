package nvlm.tensor.optim;

/**
 * Linear warmup from 0 to {@code peak} over {@code warmupSteps}, then cosine decay to
 * {@code minLr} at {@code totalSteps} (docs/model.md §11: both stages use cosine decay with warmup).
 */
public record CosineSchedule(double peak, double minLr, int warmupSteps, int totalSteps) {
    public CosineSchedule {
        if (warmupSteps < 0 || totalSteps <= 0 || warmupSteps > totalSteps || peak < 0 || minLr < 0) {
            throw new IllegalArgumentException("cosine schedule needs 0 <= warmup <= total, total > 0 and rates >= 0; got peak "
                    + peak + ", min " + minLr + ", warmup " + warmupSteps + ", total " + totalSteps);
        }
    }

    /** Learning rate for 1-based step {@code step}. */
    public double lr(int step) {
        if (step <= warmupSteps) {
            return peak * step / Math.max(1, warmupSteps);
        }
        if (step >= totalSteps) {
            return minLr;
        }
        double progress = (double) (step - warmupSteps) / (totalSteps - warmupSteps);
        return minLr + 0.5 * (peak - minLr) * (1 + Math.cos(Math.PI * progress));
    }
}
