package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import nvlm.kernels.AttentionShape;

/**
 * The obvious scaled-dot-product attention that {@link Attention} is tested against: one query row
 * at a time, its scores materialized in double, softmax, weighted sum; backward from the textbook
 * derivative. Same arguments and contract as {@link Attention}; slow on purpose.
 *
 * <p>The math lives in package-private {@code forward} and {@code backward} overloads over
 * contiguous double arrays, so tests can check it against finite differences in double.
 */
public final class AttentionReference {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private AttentionReference() {
    }

    /** Whether query i of batch b may attend to key j. */
    @FunctionalInterface
    interface Visibility {
        boolean visible(int b, int i, int j);
    }

    /** Same contract as {@link Attention#forward}. */
    public static void forward(AttentionShape s, HeadView q, HeadView k, HeadView v,
                               MemorySegment mask, long maskOffset, long maskBatchStride, long maskRowStride,
                               HeadView out, MemorySegment lse, long lseOffset) {
        AttentionArguments.checkForward(s, q, k, v, mask, maskOffset, maskBatchStride, maskRowStride, out, lse,
                lseOffset);
        double[] o = new double[s.batch() * s.qHeads() * s.qLen() * s.headDim()];
        double[] l = new double[s.batch() * s.qHeads() * s.qLen()];
        forward(s, read(q, s.batch(), s.qHeads(), s.qLen(), s.headDim()),
                read(k, s.batch(), s.kvHeads(), s.kvLen(), s.headDim()),
                read(v, s.batch(), s.kvHeads(), s.kvLen(), s.headDim()),
                visibility(s, mask, maskOffset, maskBatchStride, maskRowStride), o, l);
        write(o, out, s.batch(), s.qHeads(), s.qLen(), s.headDim());
        for (int i = 0; i < l.length; i++) {
            lse.setAtIndex(F32, lseOffset + i, (float) l[i]);
        }
    }

    /**
     * Same contract as {@link Attention#backward}. The probabilities are recomputed from q and k in
     * double, so {@code out} and {@code lse} are validated but not read.
     */
    public static void backward(AttentionShape s, HeadView q, HeadView k, HeadView v,
                                MemorySegment mask, long maskOffset, long maskBatchStride, long maskRowStride,
                                HeadView out, MemorySegment lse, long lseOffset, HeadView dOut,
                                HeadView dq, HeadView dk, HeadView dv) {
        AttentionArguments.checkBackward(s, q, k, v, mask, maskOffset, maskBatchStride, maskRowStride, out, lse,
                lseOffset, dOut, dq, dk, dv);
        double[] gq = new double[s.batch() * s.qHeads() * s.qLen() * s.headDim()];
        double[] gk = new double[s.batch() * s.kvHeads() * s.kvLen() * s.headDim()];
        double[] gv = new double[gk.length];
        backward(s, read(q, s.batch(), s.qHeads(), s.qLen(), s.headDim()),
                read(k, s.batch(), s.kvHeads(), s.kvLen(), s.headDim()),
                read(v, s.batch(), s.kvHeads(), s.kvLen(), s.headDim()),
                visibility(s, mask, maskOffset, maskBatchStride, maskRowStride),
                read(dOut, s.batch(), s.qHeads(), s.qLen(), s.headDim()), gq, gk, gv);
        write(gq, dq, s.batch(), s.qHeads(), s.qLen(), s.headDim());
        write(gk, dk, s.batch(), s.kvHeads(), s.kvLen(), s.headDim());
        write(gv, dv, s.batch(), s.kvHeads(), s.kvLen(), s.headDim());
    }

    /**
     * out[b,h,i] = sum_j p_j v[b,h/group,j] with p = softmax over visible j of scale * q_i . k_j;
     * lse[b,h,i] = log sum_j exp(scale * q_i . k_j). Arrays are contiguous [B, H, T, D] / [B, H, T].
     */
    static void forward(AttentionShape s, double[] q, double[] k, double[] v, Visibility visibility,
                        double[] out, double[] lse) {
        int d = s.headDim();
        for (int b = 0; b < s.batch(); b++) {
            for (int h = 0; h < s.qHeads(); h++) {
                int kv = b * s.kvHeads() + h / s.group();
                for (int i = 0; i < s.qLen(); i++) {
                    int row = (b * s.qHeads() + h) * s.qLen() + i;
                    double[] p = new double[s.kvLen()];
                    double logSum = probabilities(s, q, row * d, k, kv, b, i, visibility, p);
                    lse[row] = logSum;
                    for (int j = 0; j < s.kvLen(); j++) {
                        for (int c = 0; c < d; c++) {
                            out[row * d + c] += p[j] * v[(kv * s.kvLen() + j) * d + c];
                        }
                    }
                }
            }
        }
    }

    /**
     * Gradients of sum(out * dOut): with dp_j = dOut_i . v_j and ds_j = p_j (dp_j - sum_l p_l dp_l),
     * dq_i = scale sum_j ds_j k_j, dk_j += scale ds_j q_i, dv_j += p_j dOut_i. Accumulates into
     * dq, dk, dv (pass zeroed arrays).
     */
    static void backward(AttentionShape s, double[] q, double[] k, double[] v, Visibility visibility,
                         double[] dOut, double[] dq, double[] dk, double[] dv) {
        int d = s.headDim();
        for (int b = 0; b < s.batch(); b++) {
            for (int h = 0; h < s.qHeads(); h++) {
                int kv = b * s.kvHeads() + h / s.group();
                for (int i = 0; i < s.qLen(); i++) {
                    int row = (b * s.qHeads() + h) * s.qLen() + i;
                    double[] p = new double[s.kvLen()];
                    probabilities(s, q, row * d, k, kv, b, i, visibility, p);
                    double[] dp = new double[s.kvLen()];
                    double rowDot = 0;
                    for (int j = 0; j < s.kvLen(); j++) {
                        for (int c = 0; c < d; c++) {
                            dp[j] += dOut[row * d + c] * v[(kv * s.kvLen() + j) * d + c];
                        }
                        rowDot += p[j] * dp[j];
                    }
                    for (int j = 0; j < s.kvLen(); j++) {
                        double ds = p[j] * (dp[j] - rowDot);
                        int key = (kv * s.kvLen() + j) * d;
                        for (int c = 0; c < d; c++) {
                            dq[row * d + c] += s.scale() * ds * k[key + c];
                            dk[key + c] += s.scale() * ds * q[row * d + c];
                            dv[key + c] += p[j] * dOut[row * d + c];
                        }
                    }
                }
            }
        }
    }

    /** Fills p with the softmax of query row qRow's visible scores; returns their log-sum-exp (-inf if none). */
    private static double probabilities(AttentionShape s, double[] q, int qRow, double[] k, int kv, int b, int i,
                                        Visibility visibility, double[] p) {
        int d = s.headDim();
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < s.kvLen(); j++) {
            if (!visibility.visible(b, i, j)) {
                p[j] = Double.NEGATIVE_INFINITY;
                continue;
            }
            double dot = 0;
            for (int c = 0; c < d; c++) {
                dot += q[qRow + c] * k[(kv * s.kvLen() + j) * d + c];
            }
            p[j] = s.scale() * dot;
            max = Math.max(max, p[j]);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            java.util.Arrays.fill(p, 0);
            return Double.NEGATIVE_INFINITY;
        }
        double sum = 0;
        for (int j = 0; j < s.kvLen(); j++) {
            p[j] = Math.exp(p[j] - max);
            sum += p[j];
        }
        for (int j = 0; j < s.kvLen(); j++) {
            p[j] /= sum;
        }
        return max + Math.log(sum);
    }

    static Visibility visibility(AttentionShape s, MemorySegment mask, long maskOffset, long maskBatchStride,
                                 long maskRowStride) {
        return switch (s.mask()) {
            case NONE -> (b, i, j) -> true;
            case CAUSAL -> (b, i, j) -> j <= i + s.causalOffset();
            case EXPLICIT -> (b, i, j) ->
                    mask.get(ValueLayout.JAVA_BYTE, maskOffset + b * maskBatchStride + i * maskRowStride + j) != 0;
        };
    }

    private static double[] read(HeadView view, int batch, int heads, int seq, int headDim) {
        double[] values = new double[batch * heads * seq * headDim];
        int n = 0;
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < seq; t++) {
                    long row = view.rowIndex(b, h, t);
                    for (int c = 0; c < headDim; c++) {
                        values[n++] = view.data().getAtIndex(F32, row + c);
                    }
                }
            }
        }
        return values;
    }

    private static void write(double[] values, HeadView view, int batch, int heads, int seq, int headDim) {
        int n = 0;
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < seq; t++) {
                    long row = view.rowIndex(b, h, t);
                    for (int c = 0; c < headDim; c++) {
                        view.data().setAtIndex(F32, row + c, (float) values[n++]);
                    }
                }
            }
        }
    }
}
