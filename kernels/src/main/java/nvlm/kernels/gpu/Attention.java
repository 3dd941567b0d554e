package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Launches.requireLength;

import java.util.List;
import nvlm.kernels.AttentionMask;
import nvlm.kernels.AttentionShape;
import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.I8Buffer;
import nvlm.kernels.translator.Kernel;
import nvlm.kernels.translator.KernelContext;
import nvlm.kernels.translator.KernelLaunch;
import nvlm.kernels.translator.LaunchConfig;

/**
 * Scaled dot-product attention, flash style (FlashAttention, Dao et al. 2022): queries in tiles
 * of {@link #QUERY_TILE} rows, keys and values streamed through block-shared memory in tiles of
 * {@link #KEY_TILE}, an online softmax, O(T*d) memory; the forward saves each row's
 * log-sum-exp, from which the backward recomputes the probabilities.
 *
 * <p>Tensors are [batch, tokens, heads, headDim] read through {batch, token, head} strides with
 * headDim contiguous (headDim at most {@link #MAX_HEAD_DIM}); K and V share strides, dQ has Q's,
 * dK and dV have K's, dO has O's. Grouped-query attention: query head h reads kv head
 * h / (qHeads / kvHeads). lse and delta are [batch, qHeads, qLen].
 *
 * <p>Masking ({@link AttentionShape#mask()}, as on the CPU): causal (query i sees key j iff
 * j &lt;= i + kvLen - qLen: the last query aligns with the last key) or an explicit byte mask
 * ({@link MaskBytes}, nonzero = visible). A query row that sees no key gets output 0, lse -infinity and
 * zero gradients (docs/model.md §7: an empty attention set gives 0).
 *
 * <p>The backward is deterministic and uses no atomics: one kernel accumulates dQ per query tile
 * over all keys, another dK and dV per key tile over all queries of the heads sharing it.
 */
public final class Attention {
    private Attention() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel FORWARD = GpuKernel.of(Attention.class, "forwardKernel");
    private static final GpuKernel BACKWARD_DELTA = GpuKernel.of(Attention.class, "backwardDeltaKernel");
    private static final GpuKernel BACKWARD_QUERY = GpuKernel.of(Attention.class, "backwardQueryKernel");
    private static final GpuKernel BACKWARD_KEY_VALUE = GpuKernel.of(Attention.class, "backwardKeyValueKernel");

    public static final int MAX_HEAD_DIM = 128;
    public static final int QUERY_TILE = 16;
    public static final int KEY_TILE = 16;
    /** Query rows per inner tile of the dK/dV kernel (smaller, so its shared memory stays under 48 KiB). */
    static final int BACKWARD_QUERY_TILE = 8;
    static final int THREADS = 128;

    public static final int MASK_CAUSAL = 1;
    public static final int MASK_EXPLICIT = 2;

    /**
     * The bytes of an {@link AttentionMask#EXPLICIT} mask: query i of (batch b, head h) sees key j
     * iff {@code buffer[b*batchStride + h*headStride + i*rowStride + j] != 0}.
     */
    public record MaskBytes(I8Buffer buffer, long batchStride, long headStride, long rowStride) {
        /** For the shapes whose mask is not explicit: nothing to read. */
        public static final MaskBytes NONE = new MaskBytes(Placeholders.I8, 0, 0, 0);
    }

    /** {batch, token, head} strides of a [batch, tokens, heads, headDim] view. */
    public record Strides(long batch, long token, long head) {
        public static Strides contiguous(int tokens, int heads, int headDim) {
            return new Strides((long) tokens * heads * headDim, (long) heads * headDim, headDim);
        }
    }

    static boolean visible(I8Buffer mask, long msB, long msH, long msT, int b, int h, int i, int j, int maskMode,
                           int causalOffset) {
        if ((maskMode & MASK_CAUSAL) != 0 && j > i + causalOffset) {
            return false;
        }
        return (maskMode & MASK_EXPLICIT) == 0 || mask.get(b * msB + h * msH + i * msT + j) != 0;
    }

    /** Keys past this one are invisible to every query of the tile starting at qStart. */
    static int keyEnd(int qStart, int rows, int tq, int tk, int maskMode, int causalOffset) {
        if ((maskMode & MASK_CAUSAL) == 0) {
            return tk;
        }
        int lastQuery = Math.min(tq, qStart + rows) - 1;
        return Math.max(0, Math.min(tk, lastQuery + causalOffset + 1));
    }

    @Kernel
    static void forwardKernel(KernelContext kc, F32Buffer q, long qsB, long qsT, long qsH,
                              F32Buffer k, F32Buffer v, long kvsB, long kvsT, long kvsH,
                              F32Buffer o, long osB, long osT, long osH, F32Buffer lse,
                              I8Buffer mask, long msB, long msH, long msT,
                              int tq, int tk, int hq, int hkv, int headDim, int maskMode, int causalOffset, float scale) {
        F32Buffer qTile = kc.sharedF32(QUERY_TILE * MAX_HEAD_DIM);
        F32Buffer kTile = kc.sharedF32(KEY_TILE * MAX_HEAD_DIM);
        F32Buffer vTile = kc.sharedF32(KEY_TILE * MAX_HEAD_DIM);
        F32Buffer oAcc = kc.sharedF32(QUERY_TILE * MAX_HEAD_DIM);
        F32Buffer scores = kc.sharedF32(QUERY_TILE * KEY_TILE);
        F32Buffer rowMax = kc.sharedF32(QUERY_TILE);
        F32Buffer rowSum = kc.sharedF32(QUERY_TILE);
        F32Buffer rowRescale = kc.sharedF32(QUERY_TILE);
        int tid = kc.lix();
        int threads = kc.lsx();
        int qStart = kc.bix() * QUERY_TILE;
        int b = kc.biy() / hq;
        int h = kc.biy() % hq;
        int g = h / (hq / hkv);
        long qBase = b * qsB + h * qsH;
        long kvBase = b * kvsB + g * kvsH;
        for (int e = tid; e < QUERY_TILE * headDim; e += threads) {
            int r = e / headDim;
            int d = e % headDim;
            int i = qStart + r;
            qTile.set(r * MAX_HEAD_DIM + d, i < tq ? q.get(qBase + i * qsT + d) * scale : 0f);
            oAcc.set(r * MAX_HEAD_DIM + d, 0f);
        }
        for (int r = tid; r < QUERY_TILE; r += threads) {
            rowMax.set(r, Float.NEGATIVE_INFINITY);
            rowSum.set(r, 0f);
        }
        kc.barrier();
        int keyEnd = keyEnd(qStart, QUERY_TILE, tq, tk, maskMode, causalOffset);
        for (int kStart = 0; kStart < keyEnd; kStart += KEY_TILE) {
            for (int e = tid; e < KEY_TILE * headDim; e += threads) {
                int c = e / headDim;
                int d = e % headDim;
                int j = kStart + c;
                long at = kvBase + j * kvsT + d;
                kTile.set(c * MAX_HEAD_DIM + d, j < tk ? k.get(at) : 0f);
                vTile.set(c * MAX_HEAD_DIM + d, j < tk ? v.get(at) : 0f);
            }
            kc.barrier();
            for (int e = tid; e < QUERY_TILE * KEY_TILE; e += threads) {
                int r = e / KEY_TILE;
                int c = e % KEY_TILE;
                int i = qStart + r;
                int j = kStart + c;
                float s = Float.NEGATIVE_INFINITY;
                if (i < tq && j < tk && visible(mask, msB, msH, msT, b, h, i, j, maskMode, causalOffset)) {
                    float dot = 0f;
                    for (int d = 0; d < headDim; d++) {
                        dot += qTile.get(r * MAX_HEAD_DIM + d) * kTile.get(c * MAX_HEAD_DIM + d);
                    }
                    s = dot;
                }
                scores.set(e, s);
            }
            kc.barrier();
            // Online softmax: rescale what was accumulated by exp(oldMax - newMax), turn scores into weights.
            for (int r = tid; r < QUERY_TILE; r += threads) {
                float oldMax = rowMax.get(r);
                float newMax = oldMax;
                for (int c = 0; c < KEY_TILE; c++) {
                    newMax = Math.max(newMax, scores.get(r * KEY_TILE + c));
                }
                float rescale = 1f;
                float sum = 0f;
                for (int c = 0; c < KEY_TILE; c++) {
                    float s = scores.get(r * KEY_TILE + c);
                    float p = newMax == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(s - newMax);
                    scores.set(r * KEY_TILE + c, p);
                    sum += p;
                }
                if (newMax != Float.NEGATIVE_INFINITY) {
                    rescale = (float) Math.exp(oldMax - newMax);
                }
                rowSum.set(r, rowSum.get(r) * rescale + sum);
                rowMax.set(r, newMax);
                rowRescale.set(r, rescale);
            }
            kc.barrier();
            for (int e = tid; e < QUERY_TILE * headDim; e += threads) {
                int r = e / headDim;
                int d = e % headDim;
                float acc = oAcc.get(r * MAX_HEAD_DIM + d) * rowRescale.get(r);
                for (int c = 0; c < KEY_TILE; c++) {
                    acc += scores.get(r * KEY_TILE + c) * vTile.get(c * MAX_HEAD_DIM + d);
                }
                oAcc.set(r * MAX_HEAD_DIM + d, acc);
            }
            kc.barrier();
        }
        for (int e = tid; e < QUERY_TILE * headDim; e += threads) {
            int r = e / headDim;
            int d = e % headDim;
            int i = qStart + r;
            if (i < tq) {
                float l = rowSum.get(r);
                o.set(b * osB + i * osT + h * osH + d, l > 0f ? oAcc.get(r * MAX_HEAD_DIM + d) / l : 0f);
            }
        }
        for (int r = tid; r < QUERY_TILE; r += threads) {
            int i = qStart + r;
            if (i < tq) {
                float l = rowSum.get(r);
                lse.set(((long) b * hq + h) * tq + i, l > 0f ? rowMax.get(r) + (float) Math.log(l) : Float.NEGATIVE_INFINITY);
            }
        }
    }

    /** delta[b, h, i] = sum_d dO[b, i, h, d] * O[b, i, h, d], the row term of the softmax backward. */
    @Kernel
    static void backwardDeltaKernel(KernelContext kc, F32Buffer o, F32Buffer dO, long osB, long osT, long osH,
                                    F32Buffer delta, int batch, int tq, int hq, int headDim) {
        long rows = (long) batch * hq * tq;
        for (long row = kc.gix(); row < rows; row += kc.gsx()) {
            int i = (int) (row % tq);
            int h = (int) ((row / tq) % hq);
            int b = (int) (row / ((long) tq * hq));
            long base = b * osB + i * osT + h * osH;
            float acc = 0f;
            for (int d = 0; d < headDim; d++) {
                acc += dO.get(base + d) * o.get(base + d);
            }
            delta.set(row, acc);
        }
    }

    /** dQ_i = scale * sum_j dS_ij K_j with dS = P * (dP - delta), dP = dO V^T, P = exp(scale Q K^T - lse). */
    @Kernel
    static void backwardQueryKernel(KernelContext kc, F32Buffer q, F32Buffer dq, long qsB, long qsT, long qsH,
                                    F32Buffer k, F32Buffer v, long kvsB, long kvsT, long kvsH,
                                    F32Buffer dO, long osB, long osT, long osH, F32Buffer lse, F32Buffer delta,
                                    I8Buffer mask, long msB, long msH, long msT,
                                    int tq, int tk, int hq, int hkv, int headDim, int maskMode, int causalOffset, float scale) {
        F32Buffer qTile = kc.sharedF32(QUERY_TILE * MAX_HEAD_DIM);
        F32Buffer doTile = kc.sharedF32(QUERY_TILE * MAX_HEAD_DIM);
        F32Buffer kTile = kc.sharedF32(KEY_TILE * MAX_HEAD_DIM);
        F32Buffer vTile = kc.sharedF32(KEY_TILE * MAX_HEAD_DIM);
        F32Buffer dqAcc = kc.sharedF32(QUERY_TILE * MAX_HEAD_DIM);
        F32Buffer dsTile = kc.sharedF32(QUERY_TILE * KEY_TILE);
        F32Buffer rowLse = kc.sharedF32(QUERY_TILE);
        F32Buffer rowDelta = kc.sharedF32(QUERY_TILE);
        int tid = kc.lix();
        int threads = kc.lsx();
        int qStart = kc.bix() * QUERY_TILE;
        int b = kc.biy() / hq;
        int h = kc.biy() % hq;
        int g = h / (hq / hkv);
        long qBase = b * qsB + h * qsH;
        long oBase = b * osB + h * osH;
        long kvBase = b * kvsB + g * kvsH;
        long rowBase = ((long) b * hq + h) * tq;
        for (int e = tid; e < QUERY_TILE * headDim; e += threads) {
            int r = e / headDim;
            int d = e % headDim;
            int i = qStart + r;
            qTile.set(r * MAX_HEAD_DIM + d, i < tq ? q.get(qBase + i * qsT + d) * scale : 0f);
            doTile.set(r * MAX_HEAD_DIM + d, i < tq ? dO.get(oBase + i * osT + d) : 0f);
            dqAcc.set(r * MAX_HEAD_DIM + d, 0f);
        }
        for (int r = tid; r < QUERY_TILE; r += threads) {
            int i = qStart + r;
            rowLse.set(r, i < tq ? lse.get(rowBase + i) : Float.NEGATIVE_INFINITY);
            rowDelta.set(r, i < tq ? delta.get(rowBase + i) : 0f);
        }
        kc.barrier();
        int keyEnd = keyEnd(qStart, QUERY_TILE, tq, tk, maskMode, causalOffset);
        for (int kStart = 0; kStart < keyEnd; kStart += KEY_TILE) {
            for (int e = tid; e < KEY_TILE * headDim; e += threads) {
                int c = e / headDim;
                int d = e % headDim;
                int j = kStart + c;
                long at = kvBase + j * kvsT + d;
                kTile.set(c * MAX_HEAD_DIM + d, j < tk ? k.get(at) : 0f);
                vTile.set(c * MAX_HEAD_DIM + d, j < tk ? v.get(at) : 0f);
            }
            kc.barrier();
            for (int e = tid; e < QUERY_TILE * KEY_TILE; e += threads) {
                int r = e / KEY_TILE;
                int c = e % KEY_TILE;
                int i = qStart + r;
                int j = kStart + c;
                float ds = 0f;
                float rowLogSumExp = rowLse.get(r);
                if (i < tq && j < tk && rowLogSumExp != Float.NEGATIVE_INFINITY
                        && visible(mask, msB, msH, msT, b, h, i, j, maskMode, causalOffset)) {
                    float s = 0f;
                    float dp = 0f;
                    for (int d = 0; d < headDim; d++) {
                        s += qTile.get(r * MAX_HEAD_DIM + d) * kTile.get(c * MAX_HEAD_DIM + d);
                        dp += doTile.get(r * MAX_HEAD_DIM + d) * vTile.get(c * MAX_HEAD_DIM + d);
                    }
                    float p = (float) Math.exp(s - rowLogSumExp);
                    ds = p * (dp - rowDelta.get(r));
                }
                dsTile.set(e, ds);
            }
            kc.barrier();
            for (int e = tid; e < QUERY_TILE * headDim; e += threads) {
                int r = e / headDim;
                int d = e % headDim;
                float acc = dqAcc.get(r * MAX_HEAD_DIM + d);
                for (int c = 0; c < KEY_TILE; c++) {
                    acc += dsTile.get(r * KEY_TILE + c) * kTile.get(c * MAX_HEAD_DIM + d);
                }
                dqAcc.set(r * MAX_HEAD_DIM + d, acc);
            }
            kc.barrier();
        }
        for (int e = tid; e < QUERY_TILE * headDim; e += threads) {
            int r = e / headDim;
            int d = e % headDim;
            int i = qStart + r;
            if (i < tq) {
                dq.set(qBase + i * qsT + d, dqAcc.get(r * MAX_HEAD_DIM + d) * scale);
            }
        }
    }

    /**
     * dV_j = sum_i P_ij dO_i and dK_j = scale * sum_i dS_ij Q_i for one tile of keys of one kv head,
     * summed over every query head that reads it (grouped-query attention) and every query.
     */
    @Kernel
    static void backwardKeyValueKernel(KernelContext kc, F32Buffer q, long qsB, long qsT, long qsH,
                                       F32Buffer k, F32Buffer v, F32Buffer dk, F32Buffer dv, long kvsB, long kvsT, long kvsH,
                                       F32Buffer dO, long osB, long osT, long osH, F32Buffer lse, F32Buffer delta,
                                       I8Buffer mask, long msB, long msH, long msT,
                                       int tq, int tk, int hq, int hkv, int headDim, int maskMode, int causalOffset, float scale) {
        F32Buffer kTile = kc.sharedF32(KEY_TILE * MAX_HEAD_DIM);
        F32Buffer vTile = kc.sharedF32(KEY_TILE * MAX_HEAD_DIM);
        F32Buffer dkAcc = kc.sharedF32(KEY_TILE * MAX_HEAD_DIM);
        F32Buffer dvAcc = kc.sharedF32(KEY_TILE * MAX_HEAD_DIM);
        F32Buffer qTile = kc.sharedF32(BACKWARD_QUERY_TILE * MAX_HEAD_DIM);
        F32Buffer doTile = kc.sharedF32(BACKWARD_QUERY_TILE * MAX_HEAD_DIM);
        F32Buffer pTile = kc.sharedF32(BACKWARD_QUERY_TILE * KEY_TILE);
        F32Buffer dsTile = kc.sharedF32(BACKWARD_QUERY_TILE * KEY_TILE);
        F32Buffer rowLse = kc.sharedF32(BACKWARD_QUERY_TILE);
        F32Buffer rowDelta = kc.sharedF32(BACKWARD_QUERY_TILE);
        int tid = kc.lix();
        int threads = kc.lsx();
        int kStart = kc.bix() * KEY_TILE;
        int b = kc.biy() / hkv;
        int g = kc.biy() % hkv;
        int group = hq / hkv;
        long kvBase = b * kvsB + g * kvsH;
        for (int e = tid; e < KEY_TILE * headDim; e += threads) {
            int c = e / headDim;
            int d = e % headDim;
            int j = kStart + c;
            long at = kvBase + j * kvsT + d;
            kTile.set(c * MAX_HEAD_DIM + d, j < tk ? k.get(at) : 0f);
            vTile.set(c * MAX_HEAD_DIM + d, j < tk ? v.get(at) : 0f);
            dkAcc.set(c * MAX_HEAD_DIM + d, 0f);
            dvAcc.set(c * MAX_HEAD_DIM + d, 0f);
        }
        kc.barrier();
        for (int h = g * group; h < (g + 1) * group; h++) {
            long qBase = b * qsB + h * qsH;
            long oBase = b * osB + h * osH;
            long rowBase = ((long) b * hq + h) * tq;
            for (int qStart = 0; qStart < tq; qStart += BACKWARD_QUERY_TILE) {
                if (keyEnd(qStart, BACKWARD_QUERY_TILE, tq, tk, maskMode, causalOffset) <= kStart) {
                    continue;  // causal: these queries see none of this tile's keys
                }
                for (int e = tid; e < BACKWARD_QUERY_TILE * headDim; e += threads) {
                    int r = e / headDim;
                    int d = e % headDim;
                    int i = qStart + r;
                    qTile.set(r * MAX_HEAD_DIM + d, i < tq ? q.get(qBase + i * qsT + d) * scale : 0f);
                    doTile.set(r * MAX_HEAD_DIM + d, i < tq ? dO.get(oBase + i * osT + d) : 0f);
                }
                for (int r = tid; r < BACKWARD_QUERY_TILE; r += threads) {
                    int i = qStart + r;
                    rowLse.set(r, i < tq ? lse.get(rowBase + i) : Float.NEGATIVE_INFINITY);
                    rowDelta.set(r, i < tq ? delta.get(rowBase + i) : 0f);
                }
                kc.barrier();
                for (int e = tid; e < BACKWARD_QUERY_TILE * KEY_TILE; e += threads) {
                    int r = e / KEY_TILE;
                    int c = e % KEY_TILE;
                    int i = qStart + r;
                    int j = kStart + c;
                    float p = 0f;
                    float ds = 0f;
                    float rowLogSumExp = rowLse.get(r);
                    if (i < tq && j < tk && rowLogSumExp != Float.NEGATIVE_INFINITY
                            && visible(mask, msB, msH, msT, b, h, i, j, maskMode, causalOffset)) {
                        float s = 0f;
                        float dp = 0f;
                        for (int d = 0; d < headDim; d++) {
                            s += qTile.get(r * MAX_HEAD_DIM + d) * kTile.get(c * MAX_HEAD_DIM + d);
                            dp += doTile.get(r * MAX_HEAD_DIM + d) * vTile.get(c * MAX_HEAD_DIM + d);
                        }
                        p = (float) Math.exp(s - rowLogSumExp);
                        ds = p * (dp - rowDelta.get(r));
                    }
                    pTile.set(e, p);
                    dsTile.set(e, ds);
                }
                kc.barrier();
                for (int e = tid; e < KEY_TILE * headDim; e += threads) {
                    int c = e / headDim;
                    int d = e % headDim;
                    float accV = dvAcc.get(c * MAX_HEAD_DIM + d);
                    float accK = dkAcc.get(c * MAX_HEAD_DIM + d);
                    for (int r = 0; r < BACKWARD_QUERY_TILE; r++) {
                        accV += pTile.get(r * KEY_TILE + c) * doTile.get(r * MAX_HEAD_DIM + d);
                        accK += dsTile.get(r * KEY_TILE + c) * qTile.get(r * MAX_HEAD_DIM + d);
                    }
                    dvAcc.set(c * MAX_HEAD_DIM + d, accV);
                    dkAcc.set(c * MAX_HEAD_DIM + d, accK);
                }
                kc.barrier();
            }
        }
        for (int e = tid; e < KEY_TILE * headDim; e += threads) {
            int c = e / headDim;
            int d = e % headDim;
            int j = kStart + c;
            if (j < tk) {
                long at = kvBase + j * kvsT + d;
                dk.set(at, dkAcc.get(c * MAX_HEAD_DIM + d));
                dv.set(at, dvAcc.get(c * MAX_HEAD_DIM + d));
            }
        }
    }

    // ---- launchers -----------------------------------------------------------------------------

    /** O = softmax(scale Q K^T, masked) V, and lse [batch, qHeads, qLen]. */
    public static KernelLaunch forward(AttentionShape s, MaskBytes mask, F32Buffer q, Strides qs, F32Buffer k,
                                       F32Buffer v, Strides kvs, F32Buffer o, Strides os, F32Buffer lse) {
        check("Attention.forward", s, mask, q, qs, k, v, kvs, o, os);
        requireLength("Attention.forward", "lse", lse, (long) s.batch() * s.qHeads() * s.qLen());
        return FORWARD.launch(queryGrid(s), q, qs.batch(), qs.token(), qs.head(),
                k, v, kvs.batch(), kvs.token(), kvs.head(), o, os.batch(), os.token(), os.head(), lse,
                mask.buffer(), mask.batchStride(), mask.headStride(), mask.rowStride(),
                s.qLen(), s.kvLen(), s.qHeads(), s.kvHeads(), s.headDim(), maskMode(s), causalOffset(s), s.scale());
    }

    /**
     * The three launches of the backward, in order: delta = rowsum(dO * O) (into {@code delta},
     * [batch, qHeads, qLen]), then dQ, then dK and dV. dQ, dK and dV are overwritten.
     */
    public static List<KernelLaunch> backward(AttentionShape s, MaskBytes mask, F32Buffer q, F32Buffer dq, Strides qs,
                                              F32Buffer k, F32Buffer v, F32Buffer dk, F32Buffer dv, Strides kvs,
                                              F32Buffer o, F32Buffer dO, Strides os, F32Buffer lse, F32Buffer delta) {
        check("Attention.backward", s, mask, q, qs, k, v, kvs, o, os);
        check("Attention.backward", s, mask, dq, qs, dk, dv, kvs, dO, os);
        long rows = (long) s.batch() * s.qHeads() * s.qLen();
        requireLength("Attention.backward", "lse", lse, rows);
        requireLength("Attention.backward", "delta", delta, rows);
        KernelLaunch deltaLaunch = BACKWARD_DELTA.launch(Launches.elementwise(rows),
                o, dO, os.batch(), os.token(), os.head(), delta, s.batch(), s.qLen(), s.qHeads(), s.headDim());
        KernelLaunch query = BACKWARD_QUERY.launch(queryGrid(s),
                q, dq, qs.batch(), qs.token(), qs.head(), k, v, kvs.batch(), kvs.token(), kvs.head(),
                dO, os.batch(), os.token(), os.head(), lse, delta,
                mask.buffer(), mask.batchStride(), mask.headStride(), mask.rowStride(),
                s.qLen(), s.kvLen(), s.qHeads(), s.kvHeads(), s.headDim(), maskMode(s), causalOffset(s), s.scale());
        KernelLaunch keyValue = BACKWARD_KEY_VALUE.launch(
                LaunchConfig.of((s.kvLen() + KEY_TILE - 1) / KEY_TILE, s.batch() * s.kvHeads(), THREADS),
                q, qs.batch(), qs.token(), qs.head(), k, v, dk, dv, kvs.batch(), kvs.token(), kvs.head(),
                dO, os.batch(), os.token(), os.head(), lse, delta,
                mask.buffer(), mask.batchStride(), mask.headStride(), mask.rowStride(),
                s.qLen(), s.kvLen(), s.qHeads(), s.kvHeads(), s.headDim(), maskMode(s), causalOffset(s), s.scale());
        return List.of(deltaLaunch, query, keyValue);
    }

    /** The kernels' mask bits for the shape's mask. */
    static int maskMode(AttentionShape s) {
        return switch (s.mask()) {
            case NONE -> 0;
            case CAUSAL -> MASK_CAUSAL;
            case EXPLICIT -> MASK_EXPLICIT;
        };
    }

    private static int causalOffset(AttentionShape s) {
        return s.mask() == AttentionMask.CAUSAL ? s.causalOffset() : 0;
    }

    private static LaunchConfig queryGrid(AttentionShape s) {
        return LaunchConfig.of((s.qLen() + QUERY_TILE - 1) / QUERY_TILE, s.batch() * s.qHeads(), THREADS);
    }

    private static void check(String kernel, AttentionShape s, MaskBytes mask, F32Buffer q, Strides qs, F32Buffer k,
                              F32Buffer v, Strides kvs, F32Buffer o, Strides os) {
        Launches.require(s.qLen() >= 1 && s.kvLen() >= 1, kernel + ": query and key lengths must be positive, got "
                + s.qLen() + " and " + s.kvLen());
        Launches.require(s.headDim() <= MAX_HEAD_DIM, kernel + ": head dimension " + s.headDim()
                + " is outside 1.." + MAX_HEAD_DIM);
        requireLength(kernel, "q", q, extent(s.batch(), s.qLen(), s.qHeads(), s.headDim(), qs));
        requireLength(kernel, "k", k, extent(s.batch(), s.kvLen(), s.kvHeads(), s.headDim(), kvs));
        requireLength(kernel, "v", v, extent(s.batch(), s.kvLen(), s.kvHeads(), s.headDim(), kvs));
        requireLength(kernel, "o", o, extent(s.batch(), s.qLen(), s.qHeads(), s.headDim(), os));
        if (s.mask() == AttentionMask.EXPLICIT) {
            Launches.require(!Placeholders.is(mask.buffer()), kernel + ": an EXPLICIT mask needs its bytes");
            requireLength(kernel, "mask", mask.buffer(), (s.batch() - 1) * mask.batchStride()
                    + (s.qHeads() - 1) * mask.headStride() + (s.qLen() - 1) * mask.rowStride() + s.kvLen());
        }
    }

    private static long extent(int batch, int tokens, int heads, int headDim, Strides strides) {
        return (batch - 1) * strides.batch() + (tokens - 1) * strides.token() + (heads - 1) * strides.head() + headDim;
    }
}
