package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Launches.requireLength;

import java.util.List;
import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.I32Buffer;
import nvlm.kernels.translator.I64Buffer;
import nvlm.kernels.translator.Kernel;
import nvlm.kernels.translator.KernelContext;
import nvlm.kernels.translator.KernelLaunch;
import nvlm.kernels.translator.LaunchConfig;

/**
 * Reductions of a contiguous tensor viewed as [outer, axis, inner] along the middle axis (sum,
 * mean, max, min), the first-maximum index, the sum of squares, and the column sums that finish
 * the norms' weight gradients. Sums along an axis accumulate in double, as the CPU backend's do,
 * so the two agree to f32 rounding. Every order of additions is fixed: results are deterministic.
 * <ul>
 *   <li>inner == 1 (the last axis): one block per row; the block's double partial sums meet in a
 *       shared-memory tree kept as two int halves per double (shared memory is f32 or i32).</li>
 *   <li>inner &gt; 1: the axis is cut into chunks of {@link #CHUNK} so that long axes over few
 *       columns (bias gradients: thousands of rows, hundreds of columns) still spread over the
 *       GPU: one thread per (outer, chunk, inner) writes a partial, then one per (outer, inner)
 *       combines the chunks in order.</li>
 * </ul>
 */
public final class Reduce {
    private Reduce() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel LAST_AXIS = GpuKernel.of(Reduce.class, "lastAxisKernel");
    private static final GpuKernel CHUNKS = GpuKernel.of(Reduce.class, "chunkKernel");
    private static final GpuKernel COMBINE_CHUNKS = GpuKernel.of(Reduce.class, "combineChunksKernel");
    private static final GpuKernel ARGMAX = GpuKernel.of(Reduce.class, "argmaxKernel");
    private static final GpuKernel SQUARES = GpuKernel.of(Reduce.class, "squaresKernel");
    private static final GpuKernel COLUMN_SUM_FINAL = GpuKernel.of(Reduce.class, "columnSumFinalKernel");

    // In nvlm.tensor.ReduceOp order.
    public static final int SUM = 0;
    public static final int MEAN = 1;
    public static final int MAX = 2;
    public static final int MIN = 3;

    /** Axis elements (or rows of a column sum) each thread of a chunked first pass reduces. */
    public static final int CHUNK = 64;
    private static final int COLUMN_THREADS = 128;

    static double combine(int op, double acc, double v) {
        switch (op) {
            case MAX:
                return acc != acc || v != v ? Double.NaN : Math.max(acc, v);
            case MIN:
                return acc != acc || v != v ? Double.NaN : Math.min(acc, v);
            default:
                return acc + v;
        }
    }

    static double identity(int op) {
        switch (op) {
            case MAX:
                return Double.NEGATIVE_INFINITY;
            case MIN:
                return Double.POSITIVE_INFINITY;
            default:
                return 0.0;
        }
    }

    /** The block-wide combination of every thread's {@code value}; all threads get it. */
    static double blockCombine(KernelContext kc, I32Buffer hi, I32Buffer lo, int op, double value) {
        int tid = kc.lix();
        long bits = Double.doubleToRawLongBits(value);
        hi.set(tid, (int) (bits >>> 32));
        lo.set(tid, (int) bits);
        kc.barrier();
        for (int stride = kc.lsx() / 2; stride > 0; stride >>= 1) {
            if (tid < stride) {
                double mine = Double.longBitsToDouble(((long) hi.get(tid) << 32) | (lo.get(tid) & 0xffffffffL));
                double other = Double.longBitsToDouble(((long) hi.get(tid + stride) << 32)
                        | (lo.get(tid + stride) & 0xffffffffL));
                long combined = Double.doubleToRawLongBits(combine(op, mine, other));
                hi.set(tid, (int) (combined >>> 32));
                lo.set(tid, (int) combined);
            }
            kc.barrier();
        }
        double total = Double.longBitsToDouble(((long) hi.get(0) << 32) | (lo.get(0) & 0xffffffffL));
        kc.barrier();
        return total;
    }

    /** out[r] = op over x[r, 0..cols); one block per row. */
    @Kernel
    static void lastAxisKernel(KernelContext kc, int op, F32Buffer x, F32Buffer out, long rows, long cols) {
        I32Buffer hi = kc.sharedI32(Launches.THREADS);
        I32Buffer lo = kc.sharedI32(Launches.THREADS);
        for (long row = kc.bix(); row < rows; row += kc.bsx()) {
            long base = row * cols;
            double acc = identity(op);
            for (long c = kc.lix(); c < cols; c += kc.lsx()) {
                acc = combine(op, acc, x.get(base + c));
            }
            double total = blockCombine(kc, hi, lo, op, acc);
            if (kc.lix() == 0) {
                out.set(row, (float) (op == MEAN ? total / cols : total));
            }
        }
    }

    /** partial[(o * chunks + k) * inner + i] = op over axis elements [k*CHUNK, (k+1)*CHUNK) of x[o, :, i]. */
    @Kernel
    static void chunkKernel(KernelContext kc, int op, F32Buffer x, F32Buffer partial, long outer, long axis, long inner,
                            long chunks) {
        long n = outer * chunks * inner;
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            long i = e % inner;
            long k = (e / inner) % chunks;
            long o = e / (inner * chunks);
            long start = k * CHUNK;
            long end = Math.min(axis, start + CHUNK);
            double acc = identity(op);
            for (long a = start; a < end; a++) {
                acc = combine(op, acc, x.get((o * axis + a) * inner + i));
            }
            partial.set(e, (float) acc);
        }
    }

    /** out[o * inner + i] = op over the chunks of partial (MEAN divides the sum by axis). */
    @Kernel
    static void combineChunksKernel(KernelContext kc, int op, F32Buffer partial, F32Buffer out, long outer, long axis,
                                    long inner, long chunks) {
        long n = outer * inner;
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            long i = e % inner;
            long o = e / inner;
            double acc = identity(op);
            for (long k = 0; k < chunks; k++) {
                acc = combine(op, acc, partial.get((o * chunks + k) * inner + i));
            }
            out.set(e, (float) (op == MEAN ? acc / axis : acc));
        }
    }

    /**
     * out[o * inner + i] = index of the first maximum of x[o, :, i]; NaN is larger than everything
     * (the first NaN wins, as torch.argmax and the CPU backend).
     */
    @Kernel
    static void argmaxKernel(KernelContext kc, F32Buffer x, I64Buffer out, long outer, long axis, long inner) {
        long n = outer * inner;
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            long i = e % inner;
            long o = e / inner;
            long base = o * axis * inner + i;
            long best = 0;
            float bestValue = x.get(base);
            for (long a = 1; a < axis && bestValue == bestValue; a++) {
                float v = x.get(base + a * inner);
                if (v > bestValue || v != v) {
                    best = a;
                    bestValue = v;
                }
            }
            out.set(e, best);
        }
    }

    /** partial[thread] = sum of x[i]^2 (in double, stored as raw bits) over a grid-stride share of [0, n). */
    @Kernel
    static void squaresKernel(KernelContext kc, F32Buffer x, I64Buffer partial, long n) {
        double acc = 0.0;
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            double v = x.get(i);
            acc += v * v;
        }
        partial.set(kc.gix(), Double.doubleToRawLongBits(acc));
    }

    /**
     * out[c] = sum over chunks of partial[chunk, c] in f32 (or += with accumulate != 0): the second
     * pass of the norms' weight gradients, whose first pass writes one partial row per chunk of
     * {@link #CHUNK} rows.
     */
    @Kernel
    static void columnSumFinalKernel(KernelContext kc, F32Buffer partial, F32Buffer out, int chunks, int cols, int accumulate) {
        int c = kc.gix();
        if (c >= cols) {
            return;
        }
        float acc = 0f;
        for (int k = 0; k < chunks; k++) {
            acc += partial.get((long) k * cols + c);
        }
        out.set(c, accumulate != 0 ? out.get(c) + acc : acc);
    }

    // ---- launchers -----------------------------------------------------------------------------

    /** Chunks of {@link #CHUNK} along an axis (or column) of this length (at least one). */
    public static long chunks(long length) {
        return Math.max(1, (length + CHUNK - 1) / CHUNK);
    }

    /** Elements the partial buffer of {@link #chunked} needs. */
    public static long partialLength(long outer, long axis, long inner) {
        return outer * chunks(axis) * inner;
    }

    /** Reduces x [rows, cols] over its last axis into out [rows]. */
    public static KernelLaunch lastAxis(int op, F32Buffer x, F32Buffer out, long rows, long cols) {
        checkOp(op);
        requireLength("Reduce.lastAxis", "x", x, rows * cols);
        requireLength("Reduce.lastAxis", "out", out, rows);
        return LAST_AXIS.launch(Launches.perRow(rows), op, x, out, rows, cols);
    }

    /** The two launches reducing x [outer, axis, inner] over the middle axis into out [outer, inner]. */
    public static List<KernelLaunch> chunked(int op, F32Buffer x, F32Buffer partial, F32Buffer out, long outer,
                                             long axis, long inner) {
        checkOp(op);
        long chunks = chunks(axis);
        requireLength("Reduce.chunked", "x", x, outer * axis * inner);
        requireLength("Reduce.chunked", "partial", partial, outer * chunks * inner);
        requireLength("Reduce.chunked", "out", out, outer * inner);
        return List.of(
                CHUNKS.launch(Launches.elementwise(outer * chunks * inner), op, x, partial, outer, axis, inner, chunks),
                COMBINE_CHUNKS.launch(Launches.elementwise(outer * inner), op, partial, out, outer, axis, inner, chunks));
    }

    public static KernelLaunch argmax(F32Buffer x, I64Buffer out, long outer, long axis, long inner) {
        Launches.require(axis >= 1, "Reduce.argmax: empty axis");
        requireLength("Reduce.argmax", "x", x, outer * axis * inner);
        requireLength("Reduce.argmax", "out", out, outer * inner);
        return ARGMAX.launch(Launches.elementwise(outer * inner), x, out, outer, axis, inner);
    }

    /** Blocks of the sum-of-squares pass: one per 256 elements up to 64, so at most 16384 partials. */
    public static LaunchConfig squaresGrid(long n) {
        return LaunchConfig.of((int) Math.max(1, Math.min(64, (n + Launches.THREADS - 1) / Launches.THREADS)),
                Launches.THREADS);
    }

    /** Partials (one per thread of {@link #squaresGrid}) whose double sum is sum x^2. */
    public static KernelLaunch squares(F32Buffer x, I64Buffer partial, long n) {
        LaunchConfig grid = squaresGrid(n);
        requireLength("Reduce.squares", "x", x, n);
        requireLength("Reduce.squares", "partial", partial, grid.blocks() * grid.threadsPerBlock());
        return SQUARES.launch(grid, x, partial, n);
    }

    /** Second pass of a column sum: out[c] = sum over chunks of partial[chunk, c] (accumulate: out[c] += ...). */
    public static KernelLaunch columnSumFinal(F32Buffer partial, F32Buffer out, int chunks, int cols, boolean accumulate) {
        requireLength("Reduce.columnSumFinal", "partial", partial, (long) chunks * cols);
        requireLength("Reduce.columnSumFinal", "out", out, cols);
        return COLUMN_SUM_FINAL.launch(columnGrid(cols, 1), partial, out, chunks, cols, accumulate ? 1 : 0);
    }

    /** Threads over columns, blocks along y over chunks of rows: the grid of the column passes. */
    static LaunchConfig columnGrid(int cols, int chunks) {
        return LaunchConfig.of(Math.max(1, (cols + COLUMN_THREADS - 1) / COLUMN_THREADS), chunks, COLUMN_THREADS);
    }

    private static void checkOp(int op) {
        Launches.require(op >= SUM && op <= MIN, "Reduce: unknown op " + op);
    }
}
