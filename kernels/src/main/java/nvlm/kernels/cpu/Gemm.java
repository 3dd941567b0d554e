package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import nvlm.kernels.DType;
import nvlm.kernels.Parallel;
import nvlm.kernels.cpu.GemmPanels.Operand;
import nvlm.kernels.cpu.GemmPanels.Scratch;

/**
 * General matrix multiply on the CPU: packed panels ({@link GemmPanels}), cache blocking and a
 * register-tiled Vector API micro-kernel ({@link GemmMicroKernel}), the Goto/BLIS structure;
 * products with at most {@link GemmSkinny#MAX_M} rows stream B unpacked ({@link GemmSkinny}).
 * Tested against {@link GemmReference}.
 *
 * <p>Threads split C into slabs (whole matrices of a batch, or row/column ranges of one matrix),
 * never the k dimension, and the k blocking depends only on k; so every element of C is summed
 * in the same order whatever the thread count or timing, and results are bit-identical.
 * Products under {@link #PARALLEL_MIN_FLOPS} run on the calling thread.
 */
public final class Gemm {
    // Block sizes for Zen 5 (48 KiB L1d, 1 MiB L2 per core), chosen by measurement on 1024^3,
    // 2048^3 and the decoder shapes; 256..768 for KC and 128..512 for NC measured within noise
    // of each other, larger KC reads and writes C fewer times.
    /** Depth of one packed block: C is read and written k / KC times; an A panel (MR x KC, 16 KiB) stays in L1. */
    static final int KC = 512;
    /** Rows of A packed per block (MC x KC, 256 KiB, in L2 beside the B columns in use). */
    static final int MC = 128;
    /** Columns of the packed B slice one sweep of A panels covers (KC x NC, 512 KiB, in L2). */
    static final int NC = 256;
    /** Columns of B packed at once (a KC x NB slice, in L3); A is packed n / NB times. */
    static final int NB = 4096;
    /** Bytes between rows of a scratch tile. */
    private static final long TILE_ROW_BYTES = (long) GemmPanels.NR * Float.BYTES;
    /** Below this many flops in total, waking a second thread costs more than it saves. */
    static final long PARALLEL_MIN_FLOPS = 1L << 22;

    /** Never started; only asks whether a segment is confined to the thread that calls gemm. */
    private static final Thread OTHER_THREAD = Thread.ofPlatform().unstarted(() -> { });
    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private Gemm() {
    }

    /**
     * Row-major, batched, strided: for every batch index i in [0, batch):
     *   C_i = alpha * op(A_i) * op(B_i) + beta * C_i
     * op(A_i) is m x k (A_i stored k x m when transA), op(B_i) is k x n (B_i stored n x k when transB).
     * Element (r, c) of a stored matrix X_i is at x[xOffset + i*strideX + r*ldx + c] (offsets,
     * leading dimensions and strides in ELEMENTS of that operand's dtype). A stride of 0
     * broadcasts one matrix over the batch. aType/bType: F32, BF16 or F16 (16-bit types are
     * stored as short bits and widened to f32 on the fly); C is always F32. Accumulation in f32.
     * beta == 0 means C is not read (NaN/garbage in C does not propagate), as in BLAS.
     * alpha == 0 or k == 0 means A and B are not read (C = beta * C).
     *
     * <p>The C matrices of different batch indices must not overlap (strideC == 0 with batch > 1
     * is rejected); A and B must not overlap C. Segments confined to the calling thread are
     * computed on that thread alone; shared, global, automatic and heap segments use the pool.
     *
     * @throws IllegalArgumentException naming the argument when a size, leading dimension,
     *     stride, offset or dtype is invalid, or a segment is too small for the addressed range
     */
    public static void gemm(DType aType, DType bType, boolean transA, boolean transB,
                            int batch, int m, int n, int k, float alpha,
                            MemorySegment a, long aOffset, long lda, long strideA,
                            MemorySegment b, long bOffset, long ldb, long strideB,
                            float beta,
                            MemorySegment c, long cOffset, long ldc, long strideC) {
        checkArguments(aType, bType, transA, transB, batch, m, n, k,
                a, aOffset, lda, strideA, b, bOffset, ldb, strideB, c, cOffset, ldc, strideC);
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        if (k == 0 || alpha == 0) {
            for (int i = 0; i < batch; i++) {
                scale(c, cOffset + i * strideC, ldc, m, n, beta);
            }
            return;
        }
        if (batch == 1 && m == 1 && transB && aType == DType.F32 && (bType == DType.F32 || bType == DType.BF16)
                && (!transA || lda == 1 || k == 1) && a.isAccessibleBy(OTHER_THREAD) && b.isAccessibleBy(OTHER_THREAD)
                && c.isAccessibleBy(OTHER_THREAD)) {
            // One row times a weight stored [n, k] (a decoded token through a linear layer): a
            // matrix-vector product, bound by reading B once.
            Gemv.gemv(bType, n, k, alpha, b, bOffset, ldb, a, aOffset, beta, c, cOffset);
            return;
        }
        // A segment confined to the caller's thread cannot be read by the pool's workers.
        boolean shareable = a.isAccessibleBy(OTHER_THREAD) && b.isAccessibleBy(OTHER_THREAD)
                && c.isAccessibleBy(OTHER_THREAD);
        Plan plan = Plan.of(batch, m, n, k, shareable);
        Parallel.RangeBody body = (start, end) -> {
            Workspace workspace = WORKSPACE.get();
            for (int task = start; task < end; task++) {
                int i = task / plan.slabs();
                int slab = task % plan.slabs();
                Operand opA = new Operand(aType, a, aOffset + i * strideA, lda, transA);
                Operand opB = new Operand(bType, b, bOffset + i * strideB, ldb, transB);
                long cBase = cOffset + i * strideC;
                if (m <= GemmSkinny.MAX_M) {
                    int units = (n + GemmPanels.NR - 1) / GemmPanels.NR;
                    int c0 = Math.min(n, units * slab / plan.slabs() * GemmPanels.NR);
                    int c1 = Math.min(n, units * (slab + 1) / plan.slabs() * GemmPanels.NR);
                    GemmSkinny.gemm(opA, opB, m, k, alpha, beta, c, cBase, ldc, c0, c1, workspace.scratch);
                } else if (plan.splitRows()) {
                    int units = (m + GemmPanels.MR - 1) / GemmPanels.MR;
                    int r0 = Math.min(m, units * slab / plan.slabs() * GemmPanels.MR);
                    int r1 = Math.min(m, units * (slab + 1) / plan.slabs() * GemmPanels.MR);
                    blocked(opA, opB, k, alpha, beta, c, cBase, ldc, r0, r1, 0, n, workspace);
                } else {
                    int units = (n + GemmPanels.NR - 1) / GemmPanels.NR;
                    int c0 = Math.min(n, units * slab / plan.slabs() * GemmPanels.NR);
                    int c1 = Math.min(n, units * (slab + 1) / plan.slabs() * GemmPanels.NR);
                    blocked(opA, opB, k, alpha, beta, c, cBase, ldc, 0, m, c0, c1, workspace);
                }
            }
        };
        int tasks = batch * plan.slabs();
        if (plan.parallel()) {
            Parallel.forRange(tasks, 1, body);
        } else {
            body.run(0, tasks);
        }
    }

    /** Convenience: single f32 matrix product (batch 1). */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             MemorySegment a, long aOffset, long lda,
                             MemorySegment b, long bOffset, long ldb, float beta,
                             MemorySegment c, long cOffset, long ldc) {
        gemm(DType.F32, DType.F32, transA, transB, 1, m, n, k, alpha,
                a, aOffset, lda, 0, b, bOffset, ldb, 0, beta, c, cOffset, ldc, 0);
    }

    /**
     * How the work is cut: {@code slabs} pieces per matrix (split along rows or columns of C),
     * {@code batch * slabs} tasks handed out in contiguous chunks.
     */
    private record Plan(boolean parallel, int slabs, boolean splitRows) {
        static Plan of(int batch, int m, int n, int k, boolean shareable) {
            int threads = Parallel.threads();
            int rowUnits = (m + GemmPanels.MR - 1) / GemmPanels.MR;
            int colUnits = (n + GemmPanels.NR - 1) / GemmPanels.NR;
            boolean splitRows = rowUnits >= colUnits && m > GemmSkinny.MAX_M;
            // The skinny path streams B at a cost per element, not per flop: weigh it as MR rows.
            double flops = 2.0 * Math.max(m, GemmPanels.MR) * n * k * batch;
            if (threads == 1 || flops < PARALLEL_MIN_FLOPS || !shareable) {
                return new Plan(false, 1, splitRows);
            }
            int slabs = 1;
            if (batch < 4 * threads) {
                // Enough slabs that batch * slabs is a multiple of the thread count.
                slabs = threads / gcd(batch, threads);
                slabs = Math.max(1, Math.min(slabs, splitRows ? rowUnits : colUnits));
            }
            return new Plan(true, slabs, splitRows);
        }

        private static int gcd(int x, int y) {
            return y == 0 ? x : gcd(y, x % y);
        }
    }

    /** Per-thread packed blocks, reused across calls and grown on demand. */
    private static final class Workspace {
        float[] aBlock = new float[0];
        float[] bSlice = new float[0];
        final float[] tile = new float[GemmPanels.MR * GemmPanels.NR];
        /** {@code tile} as a segment, for the micro-kernel to store an edge tile's sums into. */
        final MemorySegment tileSegment = MemorySegment.ofArray(tile);
        final Scratch scratch = new Scratch();

        float[] aBlock(int size) {
            if (aBlock.length < size) {
                aBlock = new float[size];
            }
            return aBlock;
        }

        float[] bSlice(int size) {
            if (bSlice.length < size) {
                bSlice = new float[size];
            }
            return bSlice;
        }
    }

    /**
     * C[r0:r1, c0:c1] = alpha * op(A)[r0:r1, :] * op(B)[:, c0:c1] + beta * C[r0:r1, c0:c1], on
     * the calling thread.
     *
     * <p>Loops: jb (NB columns) / pc (KC deep: pack a kc x nb slice of B once) / ic (MC rows:
     * pack an mc x kc block of A once) / jc (NC columns of the B slice, which stay in L2) / ir
     * (MR rows: one A panel, which stays in L1) / jr (NR columns: one micro-kernel tile). The
     * innermost loop walks along rows of C, so C is read and written in sequential streams.
     */
    private static void blocked(Operand a, Operand b, int k, float alpha, float beta,
                                MemorySegment c, long cBase, long ldc,
                                int r0, int r1, int c0, int c1, Workspace workspace) {
        int kcStep = evenStep(k, KC);
        int mcStep = roundUp(evenStep(r1 - r0, MC), GemmPanels.MR);
        long ldcBytes = ldc * Float.BYTES;
        float[] tile = workspace.tile;
        for (int jb = c0; jb < c1; jb += NB) {
            int nb = Math.min(NB, c1 - jb);
            for (int pc = 0; pc < k; pc += kcStep) {
                int kc = Math.min(kcStep, k - pc);
                float betaNow = pc == 0 ? beta : 1f;
                // B panels start on a cache line: the micro-kernel's two vector loads per step then never straddle two.
                float[] bSlice = workspace.bSlice(roundUp(nb, GemmPanels.NR) * kc + CacheLines.SLACK_FLOATS);
                int bStart = CacheLines.floatsToBoundary(bSlice);
                GemmPanels.packB(b, pc, kc, jb, nb, bSlice, bStart, workspace.scratch);
                for (int ic = r0; ic < r1; ic += mcStep) {
                    int mc = Math.min(mcStep, r1 - ic);
                    float[] aBlock = workspace.aBlock(roundUp(mc, GemmPanels.MR) * kc);
                    GemmPanels.packA(a, ic, mc, pc, kc, aBlock, workspace.scratch);
                    for (int jc = 0; jc < nb; jc += NC) {
                        int jcEnd = Math.min(nb, jc + NC);
                        for (int ir = 0; ir < mc; ir += GemmPanels.MR) {
                            int rows = Math.min(GemmPanels.MR, mc - ir);
                            long rowByte = (cBase + (long) (ic + ir) * ldc + jb) * Float.BYTES;
                            for (int jr = jc; jr < jcEnd; jr += GemmPanels.NR) {
                                int cols = Math.min(GemmPanels.NR, nb - jr);
                                long tileByte = rowByte + (long) jr * Float.BYTES;
                                if (rows < GemmPanels.MR || cols < GemmPanels.NR) {
                                    GemmMicroKernel.multiplyStore(kc, aBlock, ir * kc, bSlice, bStart + jr * kc,
                                            workspace.tileSegment, 0, TILE_ROW_BYTES, 1f);
                                    GemmMicroKernel.update(tile, c, tileByte, ldcBytes, rows, cols, alpha, betaNow);
                                } else if (betaNow == 0) {
                                    GemmMicroKernel.multiplyStore(kc, aBlock, ir * kc, bSlice, bStart + jr * kc,
                                            c, tileByte, ldcBytes, alpha);
                                } else {
                                    GemmMicroKernel.multiplyAccumulate(kc, aBlock, ir * kc, bSlice, bStart + jr * kc,
                                            c, tileByte, ldcBytes, alpha, betaNow);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** The step that cuts [0, total) into ceil(total / max) nearly equal blocks of at most max. */
    private static int evenStep(int total, int max) {
        int blocks = Math.max(1, (total + max - 1) / max);
        return (total + blocks - 1) / blocks;
    }

    /** C = beta * C over an m x n matrix (beta == 0 writes zeros without reading). */
    private static void scale(MemorySegment c, long base, long ldc, int m, int n, float beta) {
        for (int r = 0; r < m; r++) {
            for (int col = 0; col < n; col++) {
                long index = base + r * ldc + col;
                float value = beta == 0 ? 0f : beta * c.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index);
                c.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index, value);
            }
        }
    }

    private static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }

    /** The argument checks shared with {@link GemmReference}; every message names the argument. */
    static void checkArguments(DType aType, DType bType, boolean transA, boolean transB,
                               int batch, int m, int n, int k,
                               MemorySegment a, long aOffset, long lda, long strideA,
                               MemorySegment b, long bOffset, long ldb, long strideB,
                               MemorySegment c, long cOffset, long ldc, long strideC) {
        checkType("aType", aType);
        checkType("bType", bType);
        checkNonNegative("batch", batch);
        checkNonNegative("m", m);
        checkNonNegative("n", n);
        checkNonNegative("k", k);
        // Stored shapes: A is m x k (k x m when transA), B is k x n (n x k when transB), C is m x n.
        checkOperand("A", a, aType, aOffset, lda, strideA, batch, transA ? k : m, transA ? m : k,
                transA ? "k x m (transA)" : "m x k");
        checkOperand("B", b, bType, bOffset, ldb, strideB, batch, transB ? n : k, transB ? k : n,
                transB ? "n x k (transB)" : "k x n");
        checkOperand("C", c, DType.F32, cOffset, ldc, strideC, batch, m, n, "m x n");
        if (c.isReadOnly()) {
            throw new IllegalArgumentException("gemm: C segment is read-only");
        }
        if (strideC == 0 && batch > 1 && m > 0 && n > 0) {
            throw new IllegalArgumentException("gemm: strideC = 0 with batch = " + batch
                    + " would write every batch index into the same C matrix");
        }
    }

    private static void checkType(String name, DType type) {
        if (type != DType.F32 && type != DType.BF16 && type != DType.F16) {
            throw new IllegalArgumentException("gemm: " + name + " must be F32, BF16 or F16, got " + type);
        }
    }

    private static void checkNonNegative(String name, int value) {
        if (value < 0) {
            throw new IllegalArgumentException("gemm: " + name + " must be >= 0, got " + value);
        }
    }

    private static void checkOperand(String name, MemorySegment segment, DType type, long offset, long ld,
                                     long stride, int batch, int rows, int cols, String shape) {
        String lower = name.toLowerCase();
        if (segment == null) {
            throw new IllegalArgumentException("gemm: segment " + name + " is null");
        }
        if (offset < 0) {
            throw new IllegalArgumentException("gemm: " + lower + "Offset must be >= 0, got " + offset);
        }
        if (stride < 0) {
            throw new IllegalArgumentException("gemm: stride" + name + " must be >= 0, got " + stride);
        }
        if (ld < cols) {
            throw new IllegalArgumentException("gemm: ld" + lower + " = " + ld + " is smaller than the row length "
                    + cols + " of " + name + " (stored " + shape + " = " + rows + " x " + cols + ")");
        }
        if (batch == 0 || rows == 0 || cols == 0) {
            return;
        }
        long elements = segment.byteSize() / type.byteSize();
        long last;
        try {
            last = Math.addExact(Math.addExact(offset, Math.multiplyExact((long) batch - 1, stride)),
                    Math.addExact(Math.multiplyExact((long) rows - 1, ld), cols - 1L));
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("gemm: the element range of " + name + " overflows a long ("
                    + lower + "Offset " + offset + ", ld" + lower + " " + ld + ", stride" + name + " " + stride + ")");
        }
        if (last >= elements) {
            throw new IllegalArgumentException("gemm: " + name + " addresses element " + last + " ("
                    + lower + "Offset + (batch-1)*stride" + name + " + (rows-1)*ld" + lower + " + cols-1 with "
                    + "stored " + shape + " = " + rows + " x " + cols + ", batch " + batch + ") but its segment holds "
                    + elements + " " + type + " elements (" + segment.byteSize() + " bytes)");
        }
    }
}
