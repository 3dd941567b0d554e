package nvlm.kernels.cpu;

import static nvlm.kernels.cpu.AttentionTiles.BLOCK;
import static nvlm.kernels.cpu.AttentionTiles.LANES;
import static nvlm.kernels.cpu.AttentionTiles.SPECIES;
import static nvlm.kernels.cpu.AttentionTiles.matmul;
import static nvlm.kernels.cpu.AttentionTiles.roundUp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import nvlm.kernels.AttentionMask;
import nvlm.kernels.AttentionShape;
import nvlm.kernels.Parallel;

/**
 * Fused scaled-dot-product attention on the CPU, forward and backward (flash attention 2).
 *
 * <p>Used three ways (docs/model.md §2, §5, §7): non-causal ViT self-attention, causal GQA decoder
 * attention (also with a KV cache: qLen 1, kvLen the cache length), and gated cross-attention
 * with an explicit boolean mask whose empty rows give 0.
 *
 * <p>Memory is O(T * d): each call copies its inputs once into padded float[] panels (forward:
 * k transposed in key blocks and v, 2x the size of k; backward: scale*q, dOut, k, and k and v
 * transposed, about 5x) and each worker keeps a few BLOCK x BLOCK tiles. No qLen x kvLen buffer
 * exists, on the heap or natively: scores live one BLOCK x BLOCK tile at a time, softmax runs
 * online over key blocks, and backward recomputes probability tiles from lse. Nothing here
 * allocates native memory.
 *
 * <p>Deterministic: every output element is owned by exactly one task and accumulated in a fixed
 * order, so results are bit-identical from run to run and for any thread count. Backward runs
 * two passes for that: dk/dv parallel over (batch, kv head, key block), then dq parallel over
 * (batch, query head, query block), each recomputing its probability tiles.
 */
public final class Attention {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;
    /** Eight mask bytes as one word, byte t in bits [8t, 8t + 8) whatever the platform's byte order. */
    private static final ValueLayout.OfLong MASK_WORD =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /**
     * At most this many (query head of a group, query) rows per kv head take the few-queries
     * forward, which reads k and v rows in place: packing a whole KV cache for one decoding step
     * costs several times the attention itself.
     */
    private static final int FEW_QUERY_ROWS = 16;

    private Attention() {
    }

    /**
     * out = softmax(scale * q k^T + mask) v per (batch, query head); query head h reads kv head
     * h / (qHeads / kvHeads) (GQA; qHeads % kvHeads == 0). CAUSAL: query i may see key j iff
     * j <= i + (kvLen - qLen) (bottom-right aligned, so decoding with a KV cache works: qLen 1,
     * kvLen = cache length). EXPLICIT: {@code mask} is a byte tensor [batch, qLen, kvLen]
     * (nonzero = may attend) at maskOffset with strides (maskBatchStride may be 0 to broadcast; the
     * kv dim is contiguous), shared by all heads; mask and its offset/strides are ignored (mask may
     * be null) for NONE and CAUSAL. A query row with no visible key gets out = 0 and
     * lse = -infinity. lse [batch, qHeads, qLen] contiguous f32 (log-sum-exp of the scaled, masked
     * scores) is written at lseOffset for backward. Memory is O(T*d): online softmax over key
     * blocks, never a qLen x kvLen buffer (not even per head). Offsets and strides of views and lse
     * count floats; those of the mask count bytes.
     *
     * @throws IllegalArgumentException naming the argument: a null or read-only output, a view or
     *     mask whose addressed range leaves its segment, a negative offset or stride
     */
    public static void forward(AttentionShape s, HeadView q, HeadView k, HeadView v,
                               MemorySegment mask, long maskOffset, long maskBatchStride, long maskRowStride,
                               HeadView out, MemorySegment lse, long lseOffset) {
        AttentionArguments.checkForward(s, q, k, v, mask, maskOffset, maskBatchStride, maskRowStride, out, lse,
                lseOffset);
        if (s.qLen() == 0) {
            return;
        }
        Geometry g = new Geometry(s, mask, maskOffset, maskBatchStride, maskRowStride);
        if (s.qLen() * s.group() <= FEW_QUERY_ROWS) {
            forwardFewQueries(g, q, k, v, out, lse, lseOffset);
            return;
        }
        int kvCount = s.batch() * s.kvHeads();
        float[][] keysT = new float[kvCount][];
        float[][] values = new float[kvCount][];
        Parallel.forEach(kvCount, kv -> {
            int b = kv / s.kvHeads();
            int h = kv % s.kvHeads();
            keysT[kv] = new float[g.kvPad * g.d];
            AttentionTiles.packTransposed(k, b, h, s.kvLen(), g.d, 1f, keysT[kv], 0);
            values[kv] = new float[g.kvPad * g.dp];
            AttentionTiles.packRows(v, b, h, 0, s.kvLen(), g.d, 1f, values[kv], 0, g.dp);
        });
        int queryBlocks = g.qPad / BLOCK;
        Parallel.forRange(s.batch() * s.qHeads() * queryBlocks, 1, (start, end) -> {
            ForwardTiles w = new ForwardTiles(g, false);
            for (int task = start; task < end; task++) {
                int head = task / queryBlocks;
                int b = head / s.qHeads();
                int h = head % s.qHeads();
                int queryBlock = balanced(task % queryBlocks, queryBlocks);
                int kv = b * s.kvHeads() + h / s.group();
                forwardBlock(g, w, q, b, h, queryBlock * BLOCK, keysT[kv], values[kv], out, lse,
                        lseOffset + (long) head * s.qLen());
            }
        });
    }

    /**
     * Gradients given dOut (same layout as out), the forward's out and lse. dq, dk, dv are
     * OVERWRITTEN (with GQA dk/dv sum over the query heads of a group). Rows with lse = -inf
     * contribute nothing. Flash-attention-2 style: recompute probabilities blockwise from lse;
     * D_i = rowsum(dOut_i * out_i). O(T*d) memory, deterministic: one pass parallel over
     * (batch, kv head, key block) for dk/dv and one over (batch, q head, query block) for dq.
     * Every input is packed before any output is written, so outputs may alias inputs.
     *
     * @throws IllegalArgumentException naming the argument, as {@link #forward}
     */
    public static void backward(AttentionShape s, HeadView q, HeadView k, HeadView v,
                                MemorySegment mask, long maskOffset, long maskBatchStride, long maskRowStride,
                                HeadView out, MemorySegment lse, long lseOffset, HeadView dOut,
                                HeadView dq, HeadView dk, HeadView dv) {
        AttentionArguments.checkBackward(s, q, k, v, mask, maskOffset, maskBatchStride, maskRowStride, out, lse,
                lseOffset, dOut, dq, dk, dv);
        Geometry g = new Geometry(s, mask, maskOffset, maskBatchStride, maskRowStride);
        int qCount = s.batch() * s.qHeads();
        int kvCount = s.batch() * s.kvHeads();
        // Query side, per (batch, query head): scale*q and dOut row-major, lse and D = rowsum(dOut * out).
        float[][] qRows = new float[qCount][];
        float[][] dORows = new float[qCount][];
        float[][] lsePad = new float[qCount][];
        float[][] delta = new float[qCount][];
        Parallel.forEach(qCount, head -> {
            int b = head / s.qHeads();
            int h = head % s.qHeads();
            qRows[head] = new float[g.qPad * g.dp];
            AttentionTiles.packRows(q, b, h, 0, s.qLen(), g.d, s.scale(), qRows[head], 0, g.dp);
            dORows[head] = new float[g.qPad * g.dp];
            AttentionTiles.packRows(dOut, b, h, 0, s.qLen(), g.d, 1f, dORows[head], 0, g.dp);
            lsePad[head] = new float[g.qPad];
            Arrays.fill(lsePad[head], NEG_INF);
            MemorySegment.copy(lse, F32, (lseOffset + (long) head * s.qLen()) * Float.BYTES, lsePad[head], 0,
                    s.qLen());
            delta[head] = new float[g.qPad];
            float[] outRow = new float[g.d];
            for (int i = 0; i < s.qLen(); i++) {
                MemorySegment.copy(out.data(), F32, out.rowIndex(b, h, i) * Float.BYTES, outRow, 0, g.d);
                double sum = 0;
                for (int c = 0; c < g.d; c++) {
                    sum += (double) outRow[c] * dORows[head][i * g.dp + c];
                }
                delta[head][i] = (float) sum;
            }
        });
        // Key side, per (batch, kv head): k row-major, k and v transposed in key blocks.
        float[][] kRows = new float[kvCount][];
        float[][] kT = new float[kvCount][];
        float[][] vT = new float[kvCount][];
        Parallel.forEach(kvCount, kv -> {
            int b = kv / s.kvHeads();
            int h = kv % s.kvHeads();
            kRows[kv] = new float[g.kvPad * g.dp];
            AttentionTiles.packRows(k, b, h, 0, s.kvLen(), g.d, 1f, kRows[kv], 0, g.dp);
            kT[kv] = new float[g.kvPad * g.d];
            AttentionTiles.packTransposed(k, b, h, s.kvLen(), g.d, 1f, kT[kv], 0);
            vT[kv] = new float[g.kvPad * g.d];
            AttentionTiles.packTransposed(v, b, h, s.kvLen(), g.d, 1f, vT[kv], 0);
        });

        // dk, dv: each task owns one key block and sums over every query of its kv head's group.
        int keyBlocks = g.kvPad / BLOCK;
        Parallel.forRange(kvCount * keyBlocks, 1, (start, end) -> {
            BackwardTiles w = new BackwardTiles(g);
            for (int task = start; task < end; task++) {
                int kv = task / keyBlocks;
                int b = kv / s.kvHeads();
                int kvHead = kv % s.kvHeads();
                int j0 = balanced(task % keyBlocks, keyBlocks) * BLOCK;
                int nk = Math.min(BLOCK, s.kvLen() - j0);
                Arrays.fill(w.gradA, 0f);
                Arrays.fill(w.gradB, 0f);
                for (int member = 0; member < s.group(); member++) {
                    int head = b * s.qHeads() + kvHead * s.group() + member;
                    for (int i0 = g.queryStart(j0) / BLOCK * BLOCK; i0 < s.qLen(); i0 += BLOCK) {
                        int nq = Math.min(BLOCK, s.qLen() - i0);
                        if (!scoreGradientTile(g, w, b, i0, j0, qRows[head], dORows[head], lsePad[head],
                                delta[head], kT[kv], vT[kv])) {
                            continue;
                        }
                        // dV += P^T dO and dK += dS^T Qs (Qs = scale * q, so dK needs no extra scale).
                        matmul(nk, g.dp, nq, w.probs, 0, 1, BLOCK, dORows[head], i0 * g.dp, g.dp, w.gradB, 0, g.dp,
                                true);
                        matmul(nk, g.dp, nq, w.dScores, 0, 1, BLOCK, qRows[head], i0 * g.dp, g.dp, w.gradA, 0,
                                g.dp, true);
                    }
                }
                AttentionTiles.unpackRows(w.gradA, 0, g.dp, dk, b, kvHead, j0, nk, g.d);
                AttentionTiles.unpackRows(w.gradB, 0, g.dp, dv, b, kvHead, j0, nk, g.d);
            }
        });
        // dq: each task owns one query block and sums over the keys it sees.
        int queryBlocks = g.qPad / BLOCK;
        Parallel.forRange(qCount * queryBlocks, 1, (start, end) -> {
            BackwardTiles w = new BackwardTiles(g);
            for (int task = start; task < end; task++) {
                int head = task / queryBlocks;
                int b = head / s.qHeads();
                int h = head % s.qHeads();
                int kv = b * s.kvHeads() + h / s.group();
                int i0 = balanced(task % queryBlocks, queryBlocks) * BLOCK;
                int nq = Math.min(BLOCK, s.qLen() - i0);
                Arrays.fill(w.gradA, 0f);
                for (int j0 = 0; j0 < g.keyEnd(i0, nq); j0 += BLOCK) {
                    if (scoreGradientTile(g, w, b, i0, j0, qRows[head], dORows[head], lsePad[head], delta[head],
                            kT[kv], vT[kv])) {
                        matmul(nq, g.dp, Math.min(BLOCK, s.kvLen() - j0), w.dScores, 0, BLOCK, 1, kRows[kv],
                                j0 * g.dp, g.dp, w.gradA, 0, g.dp, true);
                    }
                }
                for (int r = 0; r < nq; r++) {
                    scaleRow(w.gradA, r * g.dp, g.dp, s.scale());
                }
                AttentionTiles.unpackRows(w.gradA, 0, g.dp, dq, b, h, i0, nq, g.d);
            }
        });
    }

    /** Sizes derived from the shape, and the mask, shared by every task of one call. */
    private static final class Geometry {
        final AttentionShape s;
        final int d;
        /** headDim rounded up to whole vectors: the padded row length of row-major panels. */
        final int dp;
        final int qPad;
        final int kvPad;
        final int causalOffset;
        final MemorySegment mask;
        final long maskOffset;
        final long maskBatchStride;
        final long maskRowStride;

        Geometry(AttentionShape s, MemorySegment mask, long maskOffset, long maskBatchStride, long maskRowStride) {
            this.s = s;
            this.d = s.headDim();
            this.dp = roundUp(d, LANES);
            this.qPad = roundUp(s.qLen(), BLOCK);
            this.kvPad = roundUp(s.kvLen(), BLOCK);
            this.causalOffset = s.causalOffset();
            this.mask = mask;
            this.maskOffset = maskOffset;
            this.maskBatchStride = maskBatchStride;
            this.maskRowStride = maskRowStride;
        }

        boolean causal() {
            return s.mask() == AttentionMask.CAUSAL;
        }

        boolean explicit() {
            return s.mask() == AttentionMask.EXPLICIT;
        }

        /** End (exclusive) of the keys any of queries [i0, i0 + rows) may see. */
        int keyEnd(int i0, int rows) {
            if (!causal()) {
                return s.kvLen();
            }
            return Math.max(0, Math.min(s.kvLen(), i0 + rows + causalOffset));
        }

        /** First query that may see any of keys [j0, ...). */
        int queryStart(int j0) {
            return causal() ? Math.max(0, j0 - causalOffset) : 0;
        }

        /**
         * Sets x[at + j] (and y[at + j] when y is not null) to {@code hidden} for every key j in
         * [0, count) that the explicit mask hides from query i. Reads the mask 8 bytes at a time:
         * cross-attention masks are long runs, so most words need no per-byte look.
         */
        void hideMasked(float[] x, float[] y, int at, float hidden, int b, int i, int j0, int count) {
            long row = maskOffset + b * maskBatchStride + i * maskRowStride + j0;
            int j = 0;
            for (; j + 8 <= count; j += 8) {
                long bytes = mask.get(MASK_WORD, row + j);
                if (hasZeroByte(bytes)) {
                    for (int t = 0; t < 8; t++) {
                        if (((bytes >>> (8 * t)) & 0xff) == 0) {
                            hide(x, y, at + j + t, hidden);
                        }
                    }
                }
            }
            for (; j < count; j++) {
                if (mask.get(ValueLayout.JAVA_BYTE, row + j) == 0) {
                    hide(x, y, at + j, hidden);
                }
            }
        }

        private static void hide(float[] x, float[] y, int index, float hidden) {
            x[index] = hidden;
            if (y != null) {
                y[index] = hidden;
            }
        }

        /** Whether any of the 8 bytes of a word is 0 (the classic SWAR test, exact for the "any" question). */
        private static boolean hasZeroByte(long bytes) {
            return ((bytes - 0x0101010101010101L) & ~bytes & 0x8080808080808080L) != 0;
        }

        /** Whether the explicit mask lets any of queries [i0, i0 + rows) see any of keys [j0, j0 + cols). */
        boolean anyAllowed(int b, int i0, int rows, int j0, int cols) {
            for (int r = 0; r < rows; r++) {
                long at = maskOffset + b * maskBatchStride + (i0 + r) * maskRowStride + j0;
                int j = 0;
                for (; j + 8 <= cols; j += 8) {
                    if (mask.get(MASK_WORD, at + j) != 0) {
                        return true;
                    }
                }
                for (; j < cols; j++) {
                    if (mask.get(ValueLayout.JAVA_BYTE, at + j) != 0) {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    /** One worker's tiles for forward: its query rows, a score tile, the output accumulator and softmax state. */
    private static final class ForwardTiles {
        final float[] q;
        final float[] scores = new float[BLOCK * BLOCK];
        final float[] acc;
        final float[] rowMax = new float[BLOCK];
        final float[] rowSum = new float[BLOCK];
        /** Scratch for fixed-order lane sums. */
        final float[] lanes = new float[LANES];
        /** Few-queries path only: one k row and a block of v rows, padded to dp. */
        final float[] keyRow;
        final float[] valueRows;

        ForwardTiles(Geometry g, boolean fewQueries) {
            q = new float[BLOCK * g.dp];
            acc = new float[BLOCK * g.dp];
            keyRow = fewQueries ? new float[g.dp] : null;
            valueRows = fewQueries ? new float[BLOCK * g.dp] : null;
        }

        void reset(int rows, int dp) {
            Arrays.fill(rowMax, NEG_INF);
            Arrays.fill(rowSum, 0f);
            Arrays.fill(acc, 0, rows * dp, 0f);
        }
    }

    /** Forward for queries [i0, i0 + BLOCK) of one head: online softmax over key blocks. */
    private static void forwardBlock(Geometry g, ForwardTiles w, HeadView q, int b, int h, int i0, float[] keysT,
                                     float[] values, HeadView out, MemorySegment lse, long lseRow) {
        AttentionShape s = g.s;
        int rows = Math.min(BLOCK, s.qLen() - i0);
        AttentionTiles.packRows(q, b, h, i0, rows, g.d, s.scale(), w.q, 0, g.d);
        w.reset(rows, g.dp);
        int keyEnd = g.keyEnd(i0, rows);
        for (int j0 = 0; j0 < keyEnd; j0 += BLOCK) {
            int nk = Math.min(BLOCK, s.kvLen() - j0);
            int cols = roundUp(nk, LANES);
            if (g.explicit() && !g.anyAllowed(b, i0, rows, j0, nk)) {
                continue;
            }
            int panel = (j0 / BLOCK) * g.d * BLOCK;
            matmul(rows, cols, g.d, w.q, 0, g.d, 1, keysT, panel, BLOCK, w.scores, 0, BLOCK, false);
            for (int r = 0; r < rows; r++) {
                maskRow(g, w.scores, r * BLOCK, b, i0 + r, j0, nk, cols);
                onlineSoftmax(w, r, cols, g.dp);
            }
            matmul(rows, g.dp, cols, w.scores, 0, BLOCK, 1, values, j0 * g.dp, g.dp, w.acc, 0, g.dp, true);
        }
        for (int r = 0; r < rows; r++) {
            lse.setAtIndex(F32, lseRow + i0 + r, finishRow(w, r, g.dp));
        }
        AttentionTiles.unpackRows(w.acc, 0, g.dp, out, b, h, i0, rows, g.d);
    }

    /**
     * Forward for every query of a kv head's group at once, reading k and v rows in place (no
     * packed copy of the cache). Row r of the tiles is query r % qLen of group member r / qLen.
     * Scores are dot products, one reduction each: cheap enough for the few rows this path takes.
     */
    private static void forwardFewQueries(Geometry g, HeadView q, HeadView k, HeadView v, HeadView out,
                                          MemorySegment lse, long lseOffset) {
        AttentionShape s = g.s;
        int rows = s.group() * s.qLen();
        Parallel.forRange(s.batch() * s.kvHeads(), 1, (start, end) -> {
            ForwardTiles w = new ForwardTiles(g, true);
            for (int task = start; task < end; task++) {
                int b = task / s.kvHeads();
                int kvHead = task % s.kvHeads();
                int firstHead = kvHead * s.group();
                for (int member = 0; member < s.group(); member++) {
                    AttentionTiles.packRows(q, b, firstHead + member, 0, s.qLen(), g.d, s.scale(), w.q,
                            member * s.qLen() * g.dp, g.dp);
                }
                w.reset(rows, g.dp);
                int keyEnd = g.keyEnd(0, s.qLen());
                for (int j0 = 0; j0 < keyEnd; j0 += BLOCK) {
                    int nk = Math.min(BLOCK, s.kvLen() - j0);
                    int cols = roundUp(nk, LANES);
                    if (g.explicit() && !g.anyAllowed(b, 0, s.qLen(), j0, nk)) {
                        continue;
                    }
                    for (int j = 0; j < nk; j++) {
                        AttentionTiles.packRows(k, b, kvHead, j0 + j, 1, g.d, 1f, w.keyRow, 0, g.dp);
                        for (int r = 0; r < rows; r++) {
                            w.scores[r * BLOCK + j] = AttentionTiles.dot(w.q, r * g.dp, w.keyRow, g.dp, w.lanes);
                        }
                    }
                    for (int r = 0; r < rows; r++) {
                        maskRow(g, w.scores, r * BLOCK, b, r % s.qLen(), j0, nk, cols);
                        onlineSoftmax(w, r, cols, g.dp);
                    }
                    AttentionTiles.packRows(v, b, kvHead, j0, nk, g.d, 1f, w.valueRows, 0, g.dp);
                    matmul(rows, g.dp, nk, w.scores, 0, BLOCK, 1, w.valueRows, 0, g.dp, w.acc, 0, g.dp, true);
                }
                for (int member = 0; member < s.group(); member++) {
                    long lseRow = lseOffset + (long) (b * s.qHeads() + firstHead + member) * s.qLen();
                    for (int i = 0; i < s.qLen(); i++) {
                        lse.setAtIndex(F32, lseRow + i, finishRow(w, member * s.qLen() + i, g.dp));
                    }
                    AttentionTiles.unpackRows(w.acc, member * s.qLen() * g.dp, g.dp, out, b, firstHead + member, 0,
                            s.qLen(), g.d);
                }
            }
        });
    }

    /** Sets the scores of keys query i may not see (and the padding past nk) to -infinity. */
    private static void maskRow(Geometry g, float[] scores, int at, int b, int i, int j0, int nk, int cols) {
        int visibleEnd = nk;
        if (g.causal()) {
            visibleEnd = Math.clamp(i + g.causalOffset - j0 + 1L, 0, nk);
        }
        Arrays.fill(scores, at + visibleEnd, at + cols, NEG_INF);
        if (g.explicit()) {
            g.hideMasked(scores, null, at, NEG_INF, b, i, j0, visibleEnd);
        }
    }

    /** Normalizes accumulator row r by its softmax sum and returns its lse; a row that saw nothing gets 0 and -inf. */
    private static float finishRow(ForwardTiles w, int r, int dp) {
        float sum = w.rowSum[r];
        scaleRow(w.acc, r * dp, dp, sum == 0f ? 0f : 1f / sum);
        return sum == 0f ? NEG_INF : w.rowMax[r] + (float) Math.log(sum);
    }

    /**
     * Turns score row r into unnormalized probabilities against the running max and rescales the
     * row's accumulator and sum when the max grows. A row with nothing visible yet gets all zeros.
     */
    private static void onlineSoftmax(ForwardTiles w, int r, int cols, int dp) {
        float[] scores = w.scores;
        int at = r * BLOCK;
        FloatVector max = FloatVector.broadcast(SPECIES, NEG_INF);
        for (int j = 0; j < cols; j += LANES) {
            max = max.max(FloatVector.fromArray(SPECIES, scores, at + j));
        }
        float oldMax = w.rowMax[r];
        float newMax = Math.max(oldMax, max.reduceLanes(VectorOperators.MAX));
        if (newMax == NEG_INF) {
            Arrays.fill(scores, at, at + cols, 0f);
            return;
        }
        FloatVector shift = FloatVector.broadcast(SPECIES, newMax);
        FloatVector sum = FloatVector.zero(SPECIES);
        for (int j = 0; j < cols; j += LANES) {
            FloatVector p = AttentionTiles.exp(FloatVector.fromArray(SPECIES, scores, at + j).sub(shift));
            p.intoArray(scores, at + j);
            sum = sum.add(p);
        }
        // The running max rarely moves after the first blocks: skip the scalar exp then.
        float alpha = newMax == oldMax ? 1f : (float) Math.exp(oldMax - newMax);
        // Fixed-order lane sum: reduceLanes(ADD) gives other bits once C2 compiles the method.
        w.rowSum[r] = w.rowSum[r] * alpha + (float) VectorMath.sumLanes(sum, w.lanes);
        w.rowMax[r] = newMax;
        if (alpha != 1f) {
            scaleRow(w.acc, r * dp, dp, alpha);
        }
    }

    private static void scaleRow(float[] x, int at, int len, float factor) {
        for (int c = 0; c < len; c += LANES) {
            FloatVector.fromArray(SPECIES, x, at + c).mul(factor).intoArray(x, at + c);
        }
    }

    /** One worker's tiles for backward: probabilities, score gradients, and two [BLOCK][dp] gradient accumulators. */
    private static final class BackwardTiles {
        final float[] probs = new float[BLOCK * BLOCK];
        final float[] dScores = new float[BLOCK * BLOCK];
        /** dk (key pass) or dq (query pass). */
        final float[] gradA;
        /** dv (key pass). */
        final float[] gradB;

        BackwardTiles(Geometry g) {
            gradA = new float[BLOCK * g.dp];
            gradB = new float[BLOCK * g.dp];
        }
    }

    /**
     * Recomputes the (queries [i0, i0 + BLOCK)) x (keys [j0, j0 + BLOCK)) tile of one head:
     * w.probs = P = exp(Qs K^T - lse) and w.dScores = dS = P (dO V^T - D), both 0 wherever the
     * mask hides a key (or the row saw nothing). Returns false, computing nothing, when an explicit
     * mask hides the whole tile.
     */
    private static boolean scoreGradientTile(Geometry g, BackwardTiles w, int b, int i0, int j0, float[] qRows,
                                             float[] dORows, float[] lse, float[] delta, float[] kT, float[] vT) {
        AttentionShape s = g.s;
        int nq = Math.min(BLOCK, s.qLen() - i0);
        int nk = Math.min(BLOCK, s.kvLen() - j0);
        int cols = roundUp(nk, LANES);
        if (g.explicit() && !g.anyAllowed(b, i0, nq, j0, nk)) {
            return false;
        }
        int panel = (j0 / BLOCK) * g.d * BLOCK;
        matmul(nq, cols, g.d, qRows, i0 * g.dp, g.dp, 1, kT, panel, BLOCK, w.probs, 0, BLOCK, false);
        matmul(nq, cols, g.d, dORows, i0 * g.dp, g.dp, 1, vT, panel, BLOCK, w.dScores, 0, BLOCK, false);
        for (int r = 0; r < nq; r++) {
            int at = r * BLOCK;
            int i = i0 + r;
            int visibleEnd = nk;
            if (g.causal()) {
                visibleEnd = Math.clamp(i + g.causalOffset - j0 + 1L, 0, nk);
            }
            if (lse[i] == NEG_INF) {
                visibleEnd = 0;
            }
            scoreGradientRow(w.probs, w.dScores, at, cols, visibleEnd, lse[i], delta[i]);
            if (g.explicit()) {
                g.hideMasked(w.probs, w.dScores, at, 0f, b, i, j0, visibleEnd);
            }
        }
        return true;
    }

    /**
     * One query row of a tile: p = exp(score - lse) for keys before visibleEnd, else 0, into probs;
     * dS = p (dP - D) into dScores (which holds dP = dO . v on entry).
     */
    private static void scoreGradientRow(float[] probs, float[] dScores, int at, int cols, int visibleEnd,
                                         float rowLse, float rowDelta) {
        FloatVector shift = FloatVector.broadcast(SPECIES, rowLse);
        FloatVector delta = FloatVector.broadcast(SPECIES, rowDelta);
        for (int c = 0; c < cols; c += LANES) {
            VectorMask<Float> visible = SPECIES.indexInRange(c, visibleEnd);
            FloatVector p = FloatVector.zero(SPECIES).blend(
                    AttentionTiles.exp(FloatVector.fromArray(SPECIES, probs, at + c).sub(shift)), visible);
            p.intoArray(probs, at + c);
            FloatVector dp = FloatVector.fromArray(SPECIES, dScores, at + c);
            p.mul(dp.sub(delta)).intoArray(dScores, at + c);
        }
    }

    /**
     * Task order inside one head that pairs light and heavy blocks (0, n-1, 1, n-2, ...): with a
     * causal mask work grows with the block index, and the pool splits tasks into contiguous chunks.
     */
    private static int balanced(int r, int n) {
        return (r & 1) == 0 ? r >>> 1 : n - 1 - (r >>> 1);
    }
}
