package nvlm.cuda.backend.kernels;

import java.util.List;
import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.GpuKernel;
import nvlm.kernels.hat.I32Buffer;
import nvlm.kernels.hat.I64Buffer;
import nvlm.kernels.hat.Kernel;
import nvlm.kernels.hat.KernelContext;
import nvlm.kernels.hat.KernelLaunch;

/**
 * Cross-entropy with the tensor Backend's conventions (docs/model.md §8): I64 targets, any ignore index, a
 * scalar upstream scale, and a per-row result the host sums in double (the Backend returns the
 * loss sum and the labelled count). {@code nvlm.kernels.gpu.CrossEntropy} takes I32 targets, a
 * fixed ignore index and a per-row scale buffer, hence this variant.
 */
public final class CrossEntropyRows {
    private CrossEntropyRows() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel BACKWARD_KERNEL = GpuKernel.of(CrossEntropyRows.class, "backwardKernel");
    private static final GpuKernel FORWARD_KERNEL = GpuKernel.of(CrossEntropyRows.class, "forwardKernel");

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
            max = Reductions.blockCombine(kc, hi, lo, Reductions.MAX, max);
            double sum = 0.0;
            for (long c = kc.lix(); c < vocab; c += kc.lsx()) {
                sum += Math.exp(logits.get(base + c) - max);
            }
            sum = Reductions.blockCombine(kc, hi, lo, Reductions.SUM, sum);
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
        Launches.requireLength("CrossEntropyRows.forward", "logits", logits, rows * vocab);
        Launches.requireLength("CrossEntropyRows.forward", "targets", targets, rows);
        Launches.requireLength("CrossEntropyRows.forward", "lse", lse, rows);
        Launches.requireLength("CrossEntropyRows.forward", "stats", stats, 3 * rows);
        return new KernelLaunch(FORWARD_KERNEL, Launches.perRow(rows),
                List.of(logits, targets, ignoreIndex, lse, stats, rows, vocab));
    }

    public static KernelLaunch backward(F32Buffer logits, I64Buffer targets, long ignoreIndex, F32Buffer lse, float scale,
                                        F32Buffer gLogits, long rows, long vocab) {
        Launches.requireLength("CrossEntropyRows.backward", "logits", logits, rows * vocab);
        Launches.requireLength("CrossEntropyRows.backward", "targets", targets, rows);
        Launches.requireLength("CrossEntropyRows.backward", "lse", lse, rows);
        Launches.requireLength("CrossEntropyRows.backward", "gLogits", gLogits, rows * vocab);
        return new KernelLaunch(BACKWARD_KERNEL,
                Launches.elementwise(rows * vocab), List.of(logits, targets, ignoreIndex, lse, scale, gLogits, rows, vocab));
    }
}
