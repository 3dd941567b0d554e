package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused softmax cross-entropy over logits [rows, vocab] with I64 targets (docs/model.md §8: label
 * -100 is ignored, the loss is the mean over labelled tokens). The forward keeps the log-sum-exp
 * of every row so the backward needs no second reduction; no probabilities are materialized.
 */
public final class CrossEntropy {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    /** Sum of the per-row losses over the non-ignored rows, and how many rows that is. */
    public record Result(double lossSum, long count) {
        /** The mean loss (NaN when every row is ignored, as in PyTorch). */
        public double mean() {
            return lossSum / count;
        }
    }

    private CrossEntropy() {
    }

    /**
     * Writes lse[r] = log(sum(exp(logits[r, :]))) (0 for ignored rows) and returns the sum over
     * non-ignored rows of lse[r] - logits[r, target[r]], accumulated in double in row order.
     */
    public static Result forward(MemorySegment logits, long lOff, int rows, int vocab, MemorySegment targets, long tOff,
                                 long ignoreIndex, MemorySegment lse, long lseOff) {
        checkArguments(logits, lOff, rows, vocab, targets, tOff, ignoreIndex);
        Arguments.requireF32("lse", lse, lseOff, rows);
        if (vocab == 0) {
            // Every row must be ignored (no valid target exists); nothing to sum.
            lse.asSlice(lseOff * 4, (long) rows * 4).fill((byte) 0);
            return new Result(0, 0);
        }
        double[] rowLoss = new double[rows];
        F32Rows.forRows(rows, vocab, r -> {
            long target = targets.getAtIndex(I64, tOff + r);
            if (target == ignoreIndex) {
                lse.setAtIndex(F32, lseOff + r, 0f);
                return;
            }
            long lr = lOff + (long) r * vocab;
            float max = F32Rows.rowMax(logits, lr, vocab);
            double logSumExp = max + Math.log(F32Rows.sumExp(logits, lr, vocab, max));
            lse.setAtIndex(F32, lseOff + r, (float) logSumExp);
            rowLoss[r] = logSumExp - logits.getAtIndex(F32, lr + target);
        });
        double sum = 0;
        long count = 0;
        for (int r = 0; r < rows; r++) {
            if (targets.getAtIndex(I64, tOff + r) != ignoreIndex) {
                sum += rowLoss[r];
                count++;
            }
        }
        return new Result(sum, count);
    }

    /**
     * gLogits[r, :] = scale * (softmax(logits[r]) - onehot(target[r])) for non-ignored rows, 0 for
     * ignored rows (overwrite); softmax = exp(logits - lse) with the forward's lse. For a mean
     * loss, scale = upstream gradient / count.
     */
    public static void backward(MemorySegment logits, long lOff, int rows, int vocab, MemorySegment targets, long tOff,
                                long ignoreIndex, MemorySegment lse, long lseOff, float scale,
                                MemorySegment gLogits, long gOff) {
        checkArguments(logits, lOff, rows, vocab, targets, tOff, ignoreIndex);
        Arguments.requireF32("lse", lse, lseOff, rows);
        Arguments.requireF32("gLogits", gLogits, gOff, (long) rows * vocab);
        F32Rows.forRows(rows, vocab, r -> {
            long target = targets.getAtIndex(I64, tOff + r);
            long lr = lOff + (long) r * vocab;
            long gr = gOff + (long) r * vocab;
            if (target == ignoreIndex) {
                gLogits.asSlice(gr * 4, (long) vocab * 4).fill((byte) 0);
                return;
            }
            float rowLse = lse.getAtIndex(F32, lseOff + r);
            probabilitiesRow(logits, lr, gLogits, gr, vocab, rowLse, scale);
            // The target entry is scale * (p - 1), p computed by the same vector exp as the row.
            float p = VectorMath.exp(FloatVector.broadcast(SPECIES, logits.getAtIndex(F32, lr + target) - rowLse)).lane(0);
            gLogits.setAtIndex(F32, gr + target, scale * (p - 1f));
        });
    }

    /** g = scale * exp(logits - lse) over one row. */
    private static void probabilitiesRow(MemorySegment logits, long lr, MemorySegment g, long gr, int vocab, float lse,
                                         float scale) {
        FloatVector lseV = FloatVector.broadcast(SPECIES, lse);
        FloatVector scaleV = FloatVector.broadcast(SPECIES, scale);
        int bound = SPECIES.loopBound(vocab);
        for (int i = 0; i < bound; i += LANES) {
            VectorMath.exp(F32Rows.load(logits, lr + i).sub(lseV)).mul(scaleV).intoMemorySegment(g, (gr + i) * 4, ORDER);
        }
        if (bound < vocab) {
            probabilitiesTail(logits, lr, g, gr, bound, vocab, lseV, scaleV);
        }
    }

    private static void probabilitiesTail(MemorySegment logits, long lr, MemorySegment g, long gr, int i, int vocab,
                                          FloatVector lse, FloatVector scale) {
        VectorMask<Float> m = SPECIES.indexInRange(i, vocab);
        VectorMath.exp(F32Rows.load(logits, lr + i, m).sub(lse)).mul(scale).intoMemorySegment(g, (gr + i) * 4, ORDER, m);
    }

    private static void checkArguments(MemorySegment logits, long lOff, int rows, int vocab, MemorySegment targets,
                                       long tOff, long ignoreIndex) {
        Arguments.requireNonNegative("rows", rows);
        Arguments.requireNonNegative("vocab", vocab);
        Arguments.requireF32("logits", logits, lOff, (long) rows * vocab);
        Arguments.requireI64("targets", targets, tOff, rows);
        for (int r = 0; r < rows; r++) {
            long t = targets.getAtIndex(I64, tOff + r);
            if (t != ignoreIndex && (t < 0 || t >= vocab)) {
                throw new IllegalArgumentException("CrossEntropy: targets[" + r + "] = " + t + " is outside [0, "
                        + vocab + ") and is not the ignore index " + ignoreIndex);
            }
        }
    }
}
