package nvlm.trainer.train;

import java.nio.file.Path;

/**
 * A step produced a NaN or infinite loss or gradient norm. Training stops before the optimizer
 * touches the parameters; no checkpoint is written, so the last good one stays the newest.
 */
public final class TrainingDivergedException extends RuntimeException {
    private final long step;
    private final String quantity;
    private final double value;
    private final Path lastGoodCheckpoint;

    public TrainingDivergedException(long step, String quantity, double value, String where, Path lastGoodCheckpoint) {
        super("training diverged at step " + step + ": " + quantity + " is " + value + (where.isEmpty() ? "" : " (" + where + ")")
                + "; stopped before the optimizer step. "
                + (lastGoodCheckpoint == null
                        ? "No checkpoint was written yet."
                        : "The last good checkpoint is " + lastGoodCheckpoint + " (step " + TrainingCheckpoint.stepOf(lastGoodCheckpoint)
                                + "); resume from it with a lower learning rate or check the data of step " + step + "."));
        this.step = step;
        this.quantity = quantity;
        this.value = value;
        this.lastGoodCheckpoint = lastGoodCheckpoint;
    }

    /** The 1-based step whose loss or gradient was not finite. */
    public long step() {
        return step;
    }

    /** "loss" or "gradient norm". */
    public String quantity() {
        return quantity;
    }

    public double value() {
        return value;
    }

    /** The newest checkpoint on disk (null when none was written). */
    public Path lastGoodCheckpoint() {
        return lastGoodCheckpoint;
    }
}
