package nvlm.kernels.gpu;

import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.I32Buffer;
import nvlm.kernels.translator.I64Buffer;
import nvlm.kernels.translator.Kernel;
import nvlm.kernels.translator.KernelContext;
import nvlm.kernels.translator.KernelLaunch;

/**
 * Cross-entropy with the tensor Backend's conventions (docs/model.md §8): I64 targets, any ignore index, a
 * scalar upstream scale, and a per-row result the host sums in double (the Backend returns the
 * loss sum and the labelled count).
 */
public final class CrossEntropy {
    private CrossEntropy() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel BACKWARD = GpuKernel.of(CrossEntropy.class, "backwardKernel");
    private static final GpuKernel FORWARD = GpuKernel.of(CrossEntropy.class, "forwardKernel");

    /**
     * Per row: lse[r] = log sum exp(logits[r, :]), stats[r] = lse[r] - logits[r, target] (the
     * loss), stats[rows + r] = 1 (labelled) and stats[2 rows + r] = 1 if the target lies outside
     * [0, vocab) (the host then throws, as the CPU backend does), else 0. On an ignored row
     * lse[r] = 0 and the three stats are 0.
     */
    @Kernel
    static void forwardKernel(KernelContext kc, F32Buffer logits, I64Buffer targets, long ignoreIndex, F32Buffer lse,
                              F32Buffer stats, long rows, long vocab) {
        I32Buffer hi = kc.sharedI32(Launches.THREADS);
        I32Buffer lo = kc.sharedI32(Launches.THREADS);
        for (long row = kc.bix(); row < rows; row += kc.bsx()) {
            long target = targets.get(row);
            if (target == ignoreIndex) {
                if (kc.lix() == 0) {
                    lse.set(row, 0f);
                    stats.set(row, 0f);
                    stats.set(rows + row, 0f);
                    stats.set(2 * rows + row, 0f);
                }
                continue;
            }
            long base = row * vocab;
            double max = Double.NEGATIVE_INFINITY;
            for (long c = kc.lix(); c < vocab; c += kc.lsx()) {
                max = Math.max(max, logits.get(base + c));
            }
            max = Reduce.blockCombine(kc, hi, lo, Reduce.MAX, max);
            double sum = 0.0;
            for (long c = kc.lix(); c < vocab; c += kc.lsx()) {
                sum += Math.exp(logits.get(base + c) - max);
            }
            sum = Reduce.blockCombine(kc, hi, lo, Reduce.SUM, sum);
            if (kc.lix() == 0) {
                double logSumExp = max + Math.log(sum);
                lse.set(row, (float) logSumExp);
                boolean inRange = target >= 0 && target < vocab;
                double picked = inRange ? logits.get(base + target) : Double.NaN;
                stats.set(row, (float) (logSumExp - picked));
                stats.set(rows + row, 1f);
                stats.set(2 * rows + row, inRange ? 0f : 1f);
            }
        }
    }

    /** gLogits[r, c] = scale * (exp(logits[r, c] - lse[r]) - [c == target[r]]), 0 on ignored rows. */
    @Kernel
    static void backwardKernel(KernelContext kc, F32Buffer logits, I64Buffer targets, long ignoreIndex, F32Buffer lse,
                               float scale, F32Buffer gLogits, long rows, long vocab) {
        long n = rows * vocab;
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            long row = e / vocab;
            long c = e % vocab;
            long target = targets.get(row);
            if (target == ignoreIndex) {
                gLogits.set(e, 0f);
            } else {
                float p = (float) Math.exp(logits.get(e) - lse.get(row));
                gLogits.set(e, scale * (c == target ? p - 1f : p));
            }
        }
    }

    // ---- launchers -----------------------------------------------------------------------------

    /** stats holds 3 * rows floats: per-row losses, labelled flags, out-of-range-target flags. */
    public static KernelLaunch forward(F32Buffer logits, I64Buffer targets, long ignoreIndex, F32Buffer lse,
                                       F32Buffer stats, long rows, long vocab) {
        Launches.requireLength("CrossEntropy.forward", "logits", logits, rows * vocab);
        Launches.requireLength("CrossEntropy.forward", "targets", targets, rows);
        Launches.requireLength("CrossEntropy.forward", "lse", lse, rows);
        Launches.requireLength("CrossEntropy.forward", "stats", stats, 3 * rows);
        return FORWARD.launch(Launches.perRow(rows), logits, targets, ignoreIndex, lse, stats, rows, vocab);
    }

    public static KernelLaunch backward(F32Buffer logits, I64Buffer targets, long ignoreIndex, F32Buffer lse, float scale,
                                        F32Buffer gLogits, long rows, long vocab) {
        Launches.requireLength("CrossEntropy.backward", "logits", logits, rows * vocab);
        Launches.requireLength("CrossEntropy.backward", "targets", targets, rows);
        Launches.requireLength("CrossEntropy.backward", "lse", lse, rows);
        Launches.requireLength("CrossEntropy.backward", "gLogits", gLogits, rows * vocab);
        return BACKWARD.launch(Launches.elementwise(rows * vocab), logits, targets, ignoreIndex, lse, scale, gLogits,
                rows, vocab);
    }
}
