package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Grids.requireLength;

import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.GpuKernel;
import nvlm.kernels.hat.Kernel;
import nvlm.kernels.hat.KernelContext;
import nvlm.kernels.hat.KernelLaunch;
import nvlm.kernels.hat.LaunchConfig;

/**
 * Reductions of a row-major [rows, cols] matrix: along the last axis (one block per row, a
 * shared-memory tree), and along the first axis in two deterministic passes (partial sums over
 * chunks of rows, then a sum over the chunks), which is how bias and norm-weight gradients are
 * reduced. Also the sum of squares of a vector (for gradient-norm clipping), in the same two passes.
 */
public final class Reduce {
    private Reduce() {
    }

    /** Rows each block sums in the first pass of a column sum. */
    public static final int ROWS_PER_CHUNK = 64;
    private static final int COLUMN_THREADS = 128;

    /** out[r] = sum_c x[r, c]. */
    @Kernel
    static void rowSumKernel(KernelContext kc, F32Buffer x, F32Buffer out, int rows, int cols) {
        F32Buffer scratch = kc.sharedF32(BlockReduce.THREADS);
        for (int row = kc.bix(); row < rows; row += kc.bsx()) {
            long base = (long) row * cols;
            float acc = 0f;
            for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                acc += x.get(base + c);
            }
            float total = BlockReduce.sum(kc, scratch, acc);
            if (kc.lix() == 0) {
                out.set(row, total);
            }
        }
    }

    /** out[r] = max_c x[r, c] (NaN if the row holds one). */
    @Kernel
    static void rowMaxKernel(KernelContext kc, F32Buffer x, F32Buffer out, int rows, int cols) {
        F32Buffer scratch = kc.sharedF32(BlockReduce.THREADS);
        for (int row = kc.bix(); row < rows; row += kc.bsx()) {
            long base = (long) row * cols;
            float acc = Float.NEGATIVE_INFINITY;
            for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                acc = Math.max(acc, x.get(base + c));
            }
            float result = BlockReduce.max(kc, scratch, acc);
            if (kc.lix() == 0) {
                out.set(row, result);
            }
        }
    }

    /** partial[chunk, c] = sum over the chunk's rows of x[r, c]; thread per column, block y per chunk. */
    @Kernel
    static void columnSumPartialKernel(KernelContext kc, F32Buffer x, F32Buffer partial, int rows, int cols, int rowsPerChunk) {
        int c = kc.gix();
        int chunk = kc.biy();
        if (c >= cols) {
            return;
        }
        int start = chunk * rowsPerChunk;
        int end = Math.min(rows, start + rowsPerChunk);
        float acc = 0f;
        for (int r = start; r < end; r++) {
            acc += x.get((long) r * cols + c);
        }
        partial.set((long) chunk * cols + c, acc);
    }

    /** out[c] = sum over chunks of partial[chunk, c] (or += with accumulate != 0). */
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

    /** partial[block] = sum of x[i]^2 over a grid-stride share of [0, n). */
    @Kernel
    static void sumOfSquaresPartialKernel(KernelContext kc, F32Buffer x, F32Buffer partial, long n) {
        F32Buffer scratch = kc.sharedF32(BlockReduce.THREADS);
        float acc = 0f;
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            float v = x.get(i);
            acc += v * v;
        }
        float total = BlockReduce.sum(kc, scratch, acc);
        if (kc.lix() == 0) {
            partial.set(kc.bix(), total);
        }
    }

    // ---- launchers -----------------------------------------------------------------------------

    public static KernelLaunch rowSum(F32Buffer x, F32Buffer out, int rows, int cols) {
        requireLength("Reduce.rowSum", "x", x, (long) rows * cols);
        requireLength("Reduce.rowSum", "out", out, rows);
        return GpuKernel.of(Reduce.class, "rowSumKernel").launch(Grids.perRow(rows), x, out, rows, cols);
    }

    public static KernelLaunch rowMax(F32Buffer x, F32Buffer out, int rows, int cols) {
        requireLength("Reduce.rowMax", "x", x, (long) rows * cols);
        requireLength("Reduce.rowMax", "out", out, rows);
        return GpuKernel.of(Reduce.class, "rowMaxKernel").launch(Grids.perRow(rows), x, out, rows, cols);
    }

    /** Chunks of {@link #ROWS_PER_CHUNK} rows the first column-sum pass makes: the partial buffer holds chunks * cols. */
    public static int chunks(int rows) {
        return Math.max(1, (rows + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK);
    }

    /** First pass of out[c] = sum_r x[r, c]: partial must hold {@link #chunks}(rows) * cols elements. */
    public static KernelLaunch columnSumPartial(F32Buffer x, F32Buffer partial, int rows, int cols) {
        requireLength("Reduce.columnSumPartial", "x", x, (long) rows * cols);
        requireLength("Reduce.columnSumPartial", "partial", partial, (long) chunks(rows) * cols);
        return GpuKernel.of(Reduce.class, "columnSumPartialKernel").launch(columnGrid(cols, chunks(rows)),
                x, partial, rows, cols, ROWS_PER_CHUNK);
    }

    /** Second pass: out[c] = sum over chunks (accumulate: out[c] += ...). */
    public static KernelLaunch columnSumFinal(F32Buffer partial, F32Buffer out, int chunks, int cols, boolean accumulate) {
        requireLength("Reduce.columnSumFinal", "partial", partial, (long) chunks * cols);
        requireLength("Reduce.columnSumFinal", "out", out, cols);
        return GpuKernel.of(Reduce.class, "columnSumFinalKernel").launch(columnGrid(cols, 1), partial, out, chunks, cols,
                accumulate ? 1 : 0);
    }

    /** Blocks the first sum-of-squares pass uses: partial holds this many elements. */
    public static int sumOfSquaresBlocks(long n) {
        return (int) Math.max(1, Math.min(1024, (n + BlockReduce.THREADS - 1) / BlockReduce.THREADS));
    }

    /** First pass of sum x^2; finish with {@link #rowSum}(partial, out, 1, sumOfSquaresBlocks(n)). */
    public static KernelLaunch sumOfSquaresPartial(F32Buffer x, F32Buffer partial, long n) {
        requireLength("Reduce.sumOfSquaresPartial", "x", x, n);
        requireLength("Reduce.sumOfSquaresPartial", "partial", partial, sumOfSquaresBlocks(n));
        return GpuKernel.of(Reduce.class, "sumOfSquaresPartialKernel").launch(
                LaunchConfig.of(sumOfSquaresBlocks(n), BlockReduce.THREADS), x, partial, n);
    }

    static LaunchConfig columnGrid(int cols, int chunks) {
        return LaunchConfig.of(Math.max(1, (cols + COLUMN_THREADS - 1) / COLUMN_THREADS), chunks, COLUMN_THREADS);
    }
}
