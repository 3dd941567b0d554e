package nvlm.trainer.train;

import java.io.PrintStream;
import nvlm.comm.Communicator;
import nvlm.comm.SingleProcess;
import nvlm.tensor.Device;

/**
 * How a run is driven, as opposed to what it computes ({@link StageConfig}): none of these
 * change the trained bits.
 *
 * @param checkpointEvery  steps between checkpoints (0: only at the end and on interrupt)
 * @param keepCheckpoints  newest checkpoints kept on disk (at least 1)
 * @param progress         progress display mode
 * @param progressOut      where progress goes (stderr)
 * @param linesEvery       steps between plain progress lines when not on a terminal (0: ~5% of the run)
 * @param evalEvery        steps between evaluations (0: only at the end, when an evaluator is set)
 * @param evaluator        evaluation hook, or null
 * @param handleInterrupts install a shutdown hook so Ctrl-C / SIGTERM saves a checkpoint before exit
 * @param device           where a resumed model is loaded
 * @param communicator     the data-parallel group ({@link SingleProcess} for one process): its ranks
 *                         share each step's micro-batches and sum their gradients, which changes the
 *                         trained values only by the order of floating-point sums
 * @param zero             ZeRO stage 1 over the data-parallel ranks: each keeps the AdamW moments of
 *                         its share of the parameters only (same updates, same bits)
 * @param tensorParallel   ranks that split each copy of the model (Megatron tensor parallelism,
 *                         {@link nvlm.trainer.parallel.ParallelGrid}); the communicator's size / T
 *                         copies are data-parallel. Changes the trained values by the order of sums
 * @param bucketBytes      data parallel: gradients are summed across ranks in buckets of about this
 *                         many bytes ({@link DataParallel#DEFAULT_BUCKET_BYTES}, PyTorch DDP's 25 MB)
 * @param overlapGradReduce data parallel: start each bucket's all-reduce during the backward pass as
 *                         soon as its gradients are final ({@link Reducer}) instead of after it; the
 *                         same sums (bit-identical with two ranks)
 */
public record TrainerOptions(int checkpointEvery, int keepCheckpoints, ProgressBar.Mode progress, PrintStream progressOut,
                             long linesEvery, int evalEvery, Evaluator evaluator, boolean handleInterrupts, Device device,
                             Communicator communicator, boolean zero, int tensorParallel, long bucketBytes,
                             boolean overlapGradReduce) {

    public TrainerOptions {
        if (tensorParallel < 1) {
            throw new IllegalArgumentException("trainer options: tensor_parallel must be >= 1, got " + tensorParallel);
        }
        if (bucketBytes < 4) {
            throw new IllegalArgumentException("trainer options: bucket_bytes must be >= 4 (one F32 gradient), got " + bucketBytes);
        }
        if (checkpointEvery < 0 || keepCheckpoints < 1 || linesEvery < 0 || evalEvery < 0) {
            throw new IllegalArgumentException("trainer options: checkpoint_every, lines_every and eval_every must be >= 0 and"
                    + " keep_checkpoints >= 1; got " + checkpointEvery + ", " + linesEvery + ", " + evalEvery + ", " + keepCheckpoints);
        }
    }

    /** Checkpoint every 50 steps, keep 2, automatic progress on stderr, Ctrl-C handled, CPU. */
    public static TrainerOptions defaults() {
        return new TrainerOptions(50, 2, ProgressBar.Mode.auto(), System.err, 0, 0, null, true, Device.CPU, SingleProcess.INSTANCE, false, 1,
                DataParallel.DEFAULT_BUCKET_BYTES, true);
    }

    /** For tests and library use: no progress output, no signal handling. */
    public static TrainerOptions quiet(int checkpointEvery) {
        return new TrainerOptions(checkpointEvery, 2, ProgressBar.Mode.OFF, System.err, 0, 0, null, false, Device.CPU, SingleProcess.INSTANCE, false, 1,
                DataParallel.DEFAULT_BUCKET_BYTES, true);
    }

    public TrainerOptions withCheckpointEvery(int every) {
        return new TrainerOptions(every, keepCheckpoints, progress, progressOut, linesEvery, evalEvery, evaluator, handleInterrupts, device, communicator, zero, tensorParallel, bucketBytes, overlapGradReduce);
    }

    public TrainerOptions withKeepCheckpoints(int keep) {
        return new TrainerOptions(checkpointEvery, keep, progress, progressOut, linesEvery, evalEvery, evaluator, handleInterrupts, device, communicator, zero, tensorParallel, bucketBytes, overlapGradReduce);
    }

    public TrainerOptions withProgress(ProgressBar.Mode mode, PrintStream out, long every) {
        return new TrainerOptions(checkpointEvery, keepCheckpoints, mode, out, every, evalEvery, evaluator, handleInterrupts, device, communicator, zero, tensorParallel, bucketBytes, overlapGradReduce);
    }

    public TrainerOptions withEvaluator(Evaluator e, int every) {
        return new TrainerOptions(checkpointEvery, keepCheckpoints, progress, progressOut, linesEvery, every, e, handleInterrupts, device, communicator, zero, tensorParallel, bucketBytes, overlapGradReduce);
    }

    public TrainerOptions withInterruptHandling(boolean handle) {
        return new TrainerOptions(checkpointEvery, keepCheckpoints, progress, progressOut, linesEvery, evalEvery, evaluator, handle, device, communicator, zero, tensorParallel, bucketBytes, overlapGradReduce);
    }

    public TrainerOptions withDevice(Device d) {
        return new TrainerOptions(checkpointEvery, keepCheckpoints, progress, progressOut, linesEvery, evalEvery, evaluator, handleInterrupts, d, communicator, zero, tensorParallel, bucketBytes, overlapGradReduce);
    }

    public TrainerOptions withCommunicator(Communicator c) {
        return new TrainerOptions(checkpointEvery, keepCheckpoints, progress, progressOut, linesEvery, evalEvery, evaluator, handleInterrupts, device, c, zero, tensorParallel, bucketBytes, overlapGradReduce);
    }

    public TrainerOptions withZero(boolean z) {
        return new TrainerOptions(checkpointEvery, keepCheckpoints, progress, progressOut, linesEvery, evalEvery, evaluator, handleInterrupts, device, communicator, z, tensorParallel, bucketBytes, overlapGradReduce);
    }

    public TrainerOptions withTensorParallel(int t) {
        return new TrainerOptions(checkpointEvery, keepCheckpoints, progress, progressOut, linesEvery, evalEvery, evaluator, handleInterrupts, device, communicator, zero, t, bucketBytes, overlapGradReduce);
    }

    public TrainerOptions withGradientBuckets(long bytes, boolean overlap) {
        return new TrainerOptions(checkpointEvery, keepCheckpoints, progress, progressOut, linesEvery, evalEvery, evaluator, handleInterrupts, device, communicator, zero, tensorParallel, bytes, overlap);
    }
}
