package nvlm.cuda.backend.kernels;

import java.util.List;
import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.GpuKernel;
import nvlm.kernels.hat.I32Buffer;
import nvlm.kernels.hat.I64Buffer;
import nvlm.kernels.hat.Kernel;
import nvlm.kernels.hat.KernelContext;
import nvlm.kernels.hat.KernelLaunch;
import nvlm.kernels.hat.LaunchConfig;

/**
 * Reductions of a contiguous tensor viewed as [outer, axis, inner] along the middle axis (sum,
 * mean, max, min), the first-maximum index, and the sum of squares. Sums accumulate in double, as
 * the CPU backend's do, so the two agree to f32 rounding.
 * <ul>
 *   <li>inner == 1 (the last axis): one block per row; the block's double partial sums meet in a
 *       shared-memory tree kept as two int halves per double (shared memory is f32 or i32).</li>
 *   <li>inner &gt; 1: the axis is cut into chunks of {@link #CHUNK} so that long axes over few
 *       columns (bias gradients: thousands of rows, hundreds of columns) still spread over the
 *       GPU: one thread per (outer, chunk, inner) writes a partial, then one per (outer, inner)
 *       combines the chunks in order. Deterministic.</li>
 * </ul>
 */
public final class Reductions {
    private Reductions() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel ARGMAX_KERNEL = GpuKernel.of(Reductions.class, "argmaxKernel");
    private static final GpuKernel CHUNK_KERNEL = GpuKernel.of(Reductions.class, "chunkKernel");
    private static final GpuKernel COMBINE_CHUNKS_KERNEL = GpuKernel.of(Reductions.class, "combineChunksKernel");
    private static final GpuKernel LAST_AXIS_KERNEL = GpuKernel.of(Reductions.class, "lastAxisKernel");
    private static final GpuKernel SQUARES_KERNEL = GpuKernel.of(Reductions.class, "squaresKernel");

    // In nvlm.tensor.ReduceOp order.
    public static final int SUM = 0;
    public static final int MEAN = 1;
    public static final int MAX = 2;
    public static final int MIN = 3;

    /** Axis elements each thread of the chunked first pass reduces. */
    public static final int CHUNK = 64;

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

    // ---- launchers -----------------------------------------------------------------------------

    /** Chunks of {@link #CHUNK} along an axis of this length (at least one). */
    public static long chunks(long axis) {
        return Math.max(1, (axis + CHUNK - 1) / CHUNK);
    }

    /** Elements the partial buffer of {@link #chunked} needs. */
    public static long partialLength(long outer, long axis, long inner) {
        return outer * chunks(axis) * inner;
    }

    /** Reduces x [rows, cols] over its last axis into out [rows]. */
    public static KernelLaunch lastAxis(int op, F32Buffer x, F32Buffer out, long rows, long cols) {
        checkOp(op);
        Launches.requireLength("Reductions.lastAxis", "x", x, rows * cols);
        Launches.requireLength("Reductions.lastAxis", "out", out, rows);
        return new KernelLaunch(LAST_AXIS_KERNEL, Launches.perRow(rows),
                List.of(op, x, out, rows, cols));
    }

    /** The two launches reducing x [outer, axis, inner] over the middle axis into out [outer, inner]. */
    public static List<KernelLaunch> chunked(int op, F32Buffer x, F32Buffer partial, F32Buffer out, long outer,
                                             long axis, long inner) {
        checkOp(op);
        long chunks = chunks(axis);
        Launches.requireLength("Reductions.chunked", "x", x, outer * axis * inner);
        Launches.requireLength("Reductions.chunked", "partial", partial, outer * chunks * inner);
        Launches.requireLength("Reductions.chunked", "out", out, outer * inner);
        return List.of(
                new KernelLaunch(CHUNK_KERNEL,
                        Launches.elementwise(outer * chunks * inner), List.of(op, x, partial, outer, axis, inner, chunks)),
                new KernelLaunch(COMBINE_CHUNKS_KERNEL,
                        Launches.elementwise(outer * inner), List.of(op, partial, out, outer, axis, inner, chunks)));
    }

    public static KernelLaunch argmax(F32Buffer x, I64Buffer out, long outer, long axis, long inner) {
        Launches.require(axis >= 1, "Reductions.argmax: empty axis");
        Launches.requireLength("Reductions.argmax", "x", x, outer * axis * inner);
        Launches.requireLength("Reductions.argmax", "out", out, outer * inner);
        return new KernelLaunch(ARGMAX_KERNEL, Launches.elementwise(outer * inner),
                List.of(x, out, outer, axis, inner));
    }

    /** Blocks of the sum-of-squares pass: one per 256 elements up to 64, so at most 16384 partials. */
    public static LaunchConfig squaresGrid(long n) {
        return LaunchConfig.of((int) Math.max(1, Math.min(64, (n + Launches.THREADS - 1) / Launches.THREADS)),
                Launches.THREADS);
    }

    /** Partials (one per thread of {@link #squaresGrid}) whose double sum is sum x^2. */
    public static KernelLaunch squares(F32Buffer x, I64Buffer partial, long n) {
        LaunchConfig grid = squaresGrid(n);
        Launches.requireLength("Reductions.squares", "x", x, n);
        Launches.requireLength("Reductions.squares", "partial", partial, grid.blocks() * grid.threadsPerBlock());
        return new KernelLaunch(SQUARES_KERNEL, grid, List.of(x, partial, n));
    }

    private static void checkOp(int op) {
        Launches.require(op >= SUM && op <= MIN, "Reductions: unknown op " + op);
    }
}
