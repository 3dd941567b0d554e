package nvlm.trainer.train;

import nvlm.model.Batch;

/**
 * Deterministic batches: the batch for a given (step, microStep) is a pure function of the
 * source's seed, so a resumed run sees exactly the batches an uninterrupted run would. This is
 * what makes {@code --resume} bit-identical without saving any random-generator state: the data
 * position of a checkpoint is just its step number.
 */
public interface BatchSource {
    /**
     * The micro-batch {@code microStep} (0-based, below the stage's gradient accumulation) of the
     * 1-based optimizer step {@code step}.
     */
    Batch batch(long step, int microStep);

    /**
     * Tokens a micro-batch costs, for the tokens/s figure: every position of every row
     * (rows x length, padding included, because the model computes over it). Sources that pack
     * or bucket may report their non-padding count instead.
     */
    default long tokensIn(Batch batch) {
        return batch.rows() * batch.length();
    }

    /**
     * Says that this process takes every {@code stride}-th micro-batch only (a data-parallel rank
     * of {@code stride}), so a source that loads ahead should load that one next. Changes no batch.
     */
    default void takeEvery(int stride) {
    }
}
