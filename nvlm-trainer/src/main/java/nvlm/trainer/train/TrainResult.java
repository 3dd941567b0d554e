package nvlm.trainer.train;

import java.nio.file.Path;

/**
 * How a {@link Trainer#run()} ended.
 *
 * @param status     COMPLETED (all steps done) or INTERRUPTED (a stop was requested, e.g. Ctrl-C)
 * @param step       optimizer steps completed
 * @param lastLoss   loss of the last step (NaN when no step ran)
 * @param checkpoint the checkpoint written at {@code step}
 * @param modelDir   the final model folder (COMPLETED only, else null)
 */
public record TrainResult(Status status, long step, double lastLoss, Path checkpoint, Path modelDir) {
    public enum Status {
        COMPLETED,
        INTERRUPTED
    }
}
