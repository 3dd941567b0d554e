package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Launches.requireLength;

import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.Kernel;
import nvlm.kernels.translator.KernelContext;
import nvlm.kernels.translator.KernelLaunch;

/**
 * LayerNorm over the last axis (PyTorch semantics: biased variance, eps inside the square root),
 * forward and backward. The forward saves per-row mean and rstd = 1/sqrt(var + eps) for the
 * backward. Weight and bias gradients are reduced over rows in two deterministic passes: per-chunk
 * partial sums here, then {@link Reduce#columnSumFinal}.
 */
public final class LayerNorm {
    private LayerNorm() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel FORWARD = GpuKernel.of(LayerNorm.class, "forwardKernel");
    private static final GpuKernel BACKWARD = GpuKernel.of(LayerNorm.class, "backwardKernel");
    private static final GpuKernel WEIGHT_GRAD_PARTIAL = GpuKernel.of(LayerNorm.class, "weightGradPartialKernel");

    /** y = (x - mean) * rstd * w + b per row; hasBias == 0 leaves the bias out (b is then not read). */
    @Kernel
    static void forwardKernel(KernelContext kc, F32Buffer x, F32Buffer w, F32Buffer b, int hasBias, F32Buffer y,
                              F32Buffer mean, F32Buffer rstd, int rows, int cols, float eps) {
        F32Buffer scratch = kc.sharedF32(Launches.THREADS);
        for (int row = kc.bix(); row < rows; row += kc.bsx()) {
            long base = (long) row * cols;
            float sum = 0f;
            for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                sum += x.get(base + c);
            }
            float mu = BlockReduce.sum(kc, scratch, sum) / cols;
            // Two passes (sum of squared deviations) rather than E[x^2] - mu^2, which cancels badly.
            float squares = 0f;
            for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                float d = x.get(base + c) - mu;
                squares += d * d;
            }
            float variance = BlockReduce.sum(kc, scratch, squares) / cols;
            float r = 1f / (float) Math.sqrt(variance + eps);
            for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                float normalized = (x.get(base + c) - mu) * r * w.get(c);
                y.set(base + c, hasBias != 0 ? normalized + b.get(c) : normalized);
            }
            if (kc.lix() == 0) {
                mean.set(row, mu);
                rstd.set(row, r);
            }
        }
    }

    /** dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * w, xhat = (x - mean) * rstd. */
    @Kernel
    static void backwardKernel(KernelContext kc, F32Buffer x, F32Buffer w, F32Buffer mean, F32Buffer rstd, F32Buffer dy,
                               F32Buffer dx, int rows, int cols) {
        F32Buffer scratch = kc.sharedF32(Launches.THREADS);
        for (int row = kc.bix(); row < rows; row += kc.bsx()) {
            long base = (long) row * cols;
            float mu = mean.get(row);
            float r = rstd.get(row);
            float sumG = 0f;
            float sumGx = 0f;
            for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                float g = dy.get(base + c) * w.get(c);
                sumG += g;
                sumGx += g * (x.get(base + c) - mu) * r;
            }
            float meanG = BlockReduce.sum(kc, scratch, sumG) / cols;
            float meanGx = BlockReduce.sum(kc, scratch, sumGx) / cols;
            for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                float g = dy.get(base + c) * w.get(c);
                float xhat = (x.get(base + c) - mu) * r;
                dx.set(base + c, r * (g - meanG - xhat * meanGx));
            }
        }
    }

    /**
     * First pass of dw = sum_r dy * xhat and db = sum_r dy: per chunk of rows, one thread per
     * column; partialW/partialB hold [chunks, cols].
     */
    @Kernel
    static void weightGradPartialKernel(KernelContext kc, F32Buffer x, F32Buffer mean, F32Buffer rstd, F32Buffer dy,
                                        F32Buffer partialW, F32Buffer partialB, int rows, int cols, int rowsPerChunk) {
        int c = kc.gix();
        int chunk = kc.biy();
        if (c >= cols) {
            return;
        }
        int start = chunk * rowsPerChunk;
        int end = Math.min(rows, start + rowsPerChunk);
        float dw = 0f;
        float db = 0f;
        for (int row = start; row < end; row++) {
            long i = (long) row * cols + c;
            float g = dy.get(i);
            dw += g * (x.get(i) - mean.get(row)) * rstd.get(row);
            db += g;
        }
        partialW.set((long) chunk * cols + c, dw);
        partialB.set((long) chunk * cols + c, db);
    }

    /** bias may be null (no bias). mean and rstd receive one value per row. */
    public static KernelLaunch forward(F32Buffer x, F32Buffer weight, F32Buffer bias, F32Buffer y,
                                       F32Buffer mean, F32Buffer rstd, int rows, int cols, float eps) {
        long n = (long) rows * cols;
        requireLength("LayerNorm.forward", "x", x, n);
        requireLength("LayerNorm.forward", "weight", weight, cols);
        requireLength("LayerNorm.forward", "y", y, n);
        requireLength("LayerNorm.forward", "mean", mean, rows);
        requireLength("LayerNorm.forward", "rstd", rstd, rows);
        if (bias != null) {
            requireLength("LayerNorm.forward", "bias", bias, cols);
        }
        return FORWARD.launch(Launches.perRow(rows), x, weight,
                bias != null ? bias : Placeholders.F32, bias != null ? 1 : 0, y, mean, rstd, rows, cols, eps);
    }

    public static KernelLaunch backward(F32Buffer x, F32Buffer weight, F32Buffer mean, F32Buffer rstd, F32Buffer dy,
                                        F32Buffer dx, int rows, int cols) {
        long n = (long) rows * cols;
        requireLength("LayerNorm.backward", "x", x, n);
        requireLength("LayerNorm.backward", "weight", weight, cols);
        requireLength("LayerNorm.backward", "dy", dy, n);
        requireLength("LayerNorm.backward", "dx", dx, n);
        return BACKWARD.launch(Launches.perRow(rows), x, weight, mean, rstd, dy, dx,
                rows, cols);
    }

    /** First pass of the weight and bias gradients; partials hold {@link Reduce#chunks}(rows) * cols each. */
    public static KernelLaunch weightGradPartial(F32Buffer x, F32Buffer mean, F32Buffer rstd, F32Buffer dy,
                                                 F32Buffer partialW, F32Buffer partialB, int rows, int cols) {
        long n = (long) rows * cols;
        int chunks = Math.toIntExact(Reduce.chunks(rows));
        requireLength("LayerNorm.weightGradPartial", "x", x, n);
        requireLength("LayerNorm.weightGradPartial", "dy", dy, n);
        requireLength("LayerNorm.weightGradPartial", "partialW", partialW, (long) chunks * cols);
        requireLength("LayerNorm.weightGradPartial", "partialB", partialB, (long) chunks * cols);
        return WEIGHT_GRAD_PARTIAL.launch(Reduce.columnGrid(cols, chunks),
                x, mean, rstd, dy, partialW, partialB, rows, cols, Reduce.CHUNK);
    }
}
