package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Launches.requireLength;

import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.Kernel;
import nvlm.kernels.translator.KernelContext;
import nvlm.kernels.translator.KernelLaunch;

/**
 * RMSNorm over the last axis, {@code x * rsqrt(mean(x^2) + eps) * w} computed in fp32 (docs/model.md
 * §5; InternViT's qk-norm, §2, is the same over the full width), forward and
 * backward. The forward saves rstd per row; the weight gradient is reduced in two deterministic
 * passes (here per chunk of rows, then {@link Reduce#columnSumFinal}).
 */
public final class RmsNorm {
    private RmsNorm() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel FORWARD = GpuKernel.of(RmsNorm.class, "forwardKernel");
    private static final GpuKernel BACKWARD = GpuKernel.of(RmsNorm.class, "backwardKernel");
    private static final GpuKernel WEIGHT_GRAD_PARTIAL = GpuKernel.of(RmsNorm.class, "weightGradPartialKernel");

    @Kernel
    static void forwardKernel(KernelContext kc, F32Buffer x, F32Buffer w, F32Buffer y, F32Buffer rstd,
                              int rows, int cols, float eps) {
        F32Buffer scratch = kc.sharedF32(Launches.THREADS);
        for (int row = kc.bix(); row < rows; row += kc.bsx()) {
            long base = (long) row * cols;
            float squares = 0f;
            for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                float v = x.get(base + c);
                squares += v * v;
            }
            float r = 1f / (float) Math.sqrt(BlockReduce.sum(kc, scratch, squares) / cols + eps);
            for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                y.set(base + c, x.get(base + c) * r * w.get(c));
            }
            if (kc.lix() == 0) {
                rstd.set(row, r);
            }
        }
    }

    /** dx = rstd * (g - xhat * mean(g * xhat)) with g = dy * w, xhat = x * rstd. */
    @Kernel
    static void backwardKernel(KernelContext kc, F32Buffer x, F32Buffer w, F32Buffer rstd, F32Buffer dy, F32Buffer dx,
                               int rows, int cols) {
        F32Buffer scratch = kc.sharedF32(Launches.THREADS);
        for (int row = kc.bix(); row < rows; row += kc.bsx()) {
            long base = (long) row * cols;
            float r = rstd.get(row);
            float sumGx = 0f;
            for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                sumGx += dy.get(base + c) * w.get(c) * x.get(base + c) * r;
            }
            float meanGx = BlockReduce.sum(kc, scratch, sumGx) / cols;
            for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                float xhat = x.get(base + c) * r;
                dx.set(base + c, r * (dy.get(base + c) * w.get(c) - xhat * meanGx));
            }
        }
    }

    /** First pass of dw = sum_r dy * x * rstd: partialW holds [chunks, cols]. */
    @Kernel
    static void weightGradPartialKernel(KernelContext kc, F32Buffer x, F32Buffer rstd, F32Buffer dy, F32Buffer partialW,
                                        int rows, int cols, int rowsPerChunk) {
        int c = kc.gix();
        int chunk = kc.biy();
        if (c >= cols) {
            return;
        }
        int start = chunk * rowsPerChunk;
        int end = Math.min(rows, start + rowsPerChunk);
        float dw = 0f;
        for (int row = start; row < end; row++) {
            long i = (long) row * cols + c;
            dw += dy.get(i) * x.get(i) * rstd.get(row);
        }
        partialW.set((long) chunk * cols + c, dw);
    }

    public static KernelLaunch forward(F32Buffer x, F32Buffer weight, F32Buffer y, F32Buffer rstd, int rows, int cols,
                                       float eps) {
        long n = (long) rows * cols;
        requireLength("RmsNorm.forward", "x", x, n);
        requireLength("RmsNorm.forward", "weight", weight, cols);
        requireLength("RmsNorm.forward", "y", y, n);
        requireLength("RmsNorm.forward", "rstd", rstd, rows);
        return FORWARD.launch(Launches.perRow(rows), x, weight, y, rstd, rows, cols, eps);
    }

    public static KernelLaunch backward(F32Buffer x, F32Buffer weight, F32Buffer rstd, F32Buffer dy, F32Buffer dx,
                                        int rows, int cols) {
        long n = (long) rows * cols;
        requireLength("RmsNorm.backward", "x", x, n);
        requireLength("RmsNorm.backward", "weight", weight, cols);
        requireLength("RmsNorm.backward", "rstd", rstd, rows);
        requireLength("RmsNorm.backward", "dy", dy, n);
        requireLength("RmsNorm.backward", "dx", dx, n);
        return BACKWARD.launch(Launches.perRow(rows), x, weight, rstd, dy, dx, rows, cols);
    }

    /** First pass of the weight gradient; partialW holds {@link Reduce#chunks}(rows) * cols. */
    public static KernelLaunch weightGradPartial(F32Buffer x, F32Buffer rstd, F32Buffer dy, F32Buffer partialW,
                                                 int rows, int cols) {
        int chunks = Math.toIntExact(Reduce.chunks(rows));
        requireLength("RmsNorm.weightGradPartial", "x", x, (long) rows * cols);
        requireLength("RmsNorm.weightGradPartial", "dy", dy, (long) rows * cols);
        requireLength("RmsNorm.weightGradPartial", "partialW", partialW, (long) chunks * cols);
        return WEIGHT_GRAD_PARTIAL.launch(Reduce.columnGrid(cols, chunks),
                x, rstd, dy, partialW, rows, cols, Reduce.CHUNK);
    }
}
