package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Grids.requireLength;

import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.GpuKernel;
import nvlm.kernels.hat.I32Buffer;
import nvlm.kernels.hat.Kernel;
import nvlm.kernels.hat.KernelContext;
import nvlm.kernels.hat.KernelLaunch;

/**
 * Cross-entropy of logits [rows, vocab] against integer targets, per row (docs/model.md §8: the
 * ignore index is -100; the mean over labelled rows is the caller's, through dloss). The forward
 * keeps each row's log-sum-exp for the backward.
 */
public final class CrossEntropy {
    private CrossEntropy() {
    }

    /** Hugging Face's label for "no loss here" (docs/model.md §8). */
    public static final int IGNORE_INDEX = -100;

    /** lse[r] = log sum_c exp(logits[r, c]); loss[r] = lse[r] - logits[r, target[r]], or 0 where target == ignoreIndex. */
    @Kernel
    static void forwardKernel(KernelContext kc, F32Buffer logits, I32Buffer targets, F32Buffer loss, F32Buffer lse,
                              int rows, int vocab, int ignoreIndex) {
        F32Buffer scratch = kc.sharedF32(BlockReduce.THREADS);
        for (int row = kc.bix(); row < rows; row += kc.bsx()) {
            long base = (long) row * vocab;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = kc.lix(); c < vocab; c += kc.lsx()) {
                max = Math.max(max, logits.get(base + c));
            }
            max = BlockReduce.max(kc, scratch, max);
            float sum = 0f;
            for (int c = kc.lix(); c < vocab; c += kc.lsx()) {
                sum += (float) Math.exp(logits.get(base + c) - max);
            }
            sum = BlockReduce.sum(kc, scratch, sum);
            if (kc.lix() == 0) {
                float logSumExp = max + (float) Math.log(sum);
                int target = targets.get(row);
                lse.set(row, logSumExp);
                // A target outside [0, vocab) that is not the ignore index gives NaN (a kernel cannot throw).
                float picked = target >= 0 && target < vocab ? logits.get(base + target) : Float.NaN;
                loss.set(row, target == ignoreIndex ? 0f : logSumExp - picked);
            }
        }
    }

    /** dlogits[r, c] = dloss[r] * (softmax(logits[r])[c] - [c == target[r]]), 0 on ignored rows. dlogits may be logits. */
    @Kernel
    static void backwardKernel(KernelContext kc, F32Buffer logits, I32Buffer targets, F32Buffer lse, F32Buffer dloss,
                               F32Buffer dlogits, int rows, int vocab, int ignoreIndex) {
        for (int row = kc.bix(); row < rows; row += kc.bsx()) {
            long base = (long) row * vocab;
            int target = targets.get(row);
            float scale = target == ignoreIndex ? 0f : dloss.get(row);
            float logSumExp = lse.get(row);
            for (int c = kc.lix(); c < vocab; c += kc.lsx()) {
                float p = (float) Math.exp(logits.get(base + c) - logSumExp);
                dlogits.set(base + c, scale * (c == target ? p - 1f : p));
            }
        }
    }

    public static KernelLaunch forward(F32Buffer logits, I32Buffer targets, F32Buffer loss, F32Buffer lse, int rows,
                                       int vocab) {
        requireLength("CrossEntropy.forward", "logits", logits, (long) rows * vocab);
        requireLength("CrossEntropy.forward", "targets", targets, rows);
        requireLength("CrossEntropy.forward", "loss", loss, rows);
        requireLength("CrossEntropy.forward", "lse", lse, rows);
        return GpuKernel.of(CrossEntropy.class, "forwardKernel").launch(Grids.perRow(rows), logits, targets, loss, lse,
                rows, vocab, IGNORE_INDEX);
    }

    /** dloss holds one upstream gradient per row (1/labelled-count for a mean). */
    public static KernelLaunch backward(F32Buffer logits, I32Buffer targets, F32Buffer lse, F32Buffer dloss,
                                        F32Buffer dlogits, int rows, int vocab) {
        requireLength("CrossEntropy.backward", "logits", logits, (long) rows * vocab);
        requireLength("CrossEntropy.backward", "targets", targets, rows);
        requireLength("CrossEntropy.backward", "lse", lse, rows);
        requireLength("CrossEntropy.backward", "dloss", dloss, rows);
        requireLength("CrossEntropy.backward", "dlogits", dlogits, (long) rows * vocab);
        return GpuKernel.of(CrossEntropy.class, "backwardKernel").launch(Grids.perRow(rows), logits, targets, lse, dloss,
                dlogits, rows, vocab, IGNORE_INDEX);
    }
}
