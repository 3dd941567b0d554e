package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Launches.requireLength;

import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.Kernel;
import nvlm.kernels.translator.KernelContext;
import nvlm.kernels.translator.KernelLaunch;

/**
 * Softmax and log-softmax over the last axis of a row-major [rows, cols] matrix, forward and
 * backward, one block per row. Max-subtracted, so large logits do not overflow.
 */
public final class Softmax {
    private Softmax() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel FORWARD = GpuKernel.of(Softmax.class, "forwardKernel");
    private static final GpuKernel BACKWARD = GpuKernel.of(Softmax.class, "backwardKernel");

    /** y = softmax(x) per row (log != 0: y = log_softmax(x)). y may be x. */
    @Kernel
    static void forwardKernel(KernelContext kc, F32Buffer x, F32Buffer y, int rows, int cols, int log) {
        F32Buffer scratch = kc.sharedF32(Launches.THREADS);
        for (int row = kc.bix(); row < rows; row += kc.bsx()) {
            long base = (long) row * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                max = Math.max(max, x.get(base + c));
            }
            max = BlockReduce.max(kc, scratch, max);
            float sum = 0f;
            for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                sum += (float) Math.exp(x.get(base + c) - max);
            }
            sum = BlockReduce.sum(kc, scratch, sum);
            if (log != 0) {
                float logSum = (float) Math.log(sum);
                for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                    y.set(base + c, x.get(base + c) - max - logSum);
                }
            } else {
                float inverse = 1f / sum;
                for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                    y.set(base + c, (float) Math.exp(x.get(base + c) - max) * inverse);
                }
            }
        }
    }

    /**
     * dx from y and dy: softmax: dx = y * (dy - sum(dy * y)); log-softmax: dx = dy - exp(y) * sum(dy).
     * dx may be dy.
     */
    @Kernel
    static void backwardKernel(KernelContext kc, F32Buffer y, F32Buffer dy, F32Buffer dx, int rows, int cols, int log) {
        F32Buffer scratch = kc.sharedF32(Launches.THREADS);
        for (int row = kc.bix(); row < rows; row += kc.bsx()) {
            long base = (long) row * cols;
            float dot = 0f;
            for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                dot += log != 0 ? dy.get(base + c) : dy.get(base + c) * y.get(base + c);
            }
            dot = BlockReduce.sum(kc, scratch, dot);
            for (int c = kc.lix(); c < cols; c += kc.lsx()) {
                float yc = y.get(base + c);
                float g = dy.get(base + c);
                dx.set(base + c, log != 0 ? g - (float) Math.exp(yc) * dot : yc * (g - dot));
            }
        }
    }

    public static KernelLaunch forward(F32Buffer x, F32Buffer y, int rows, int cols) {
        return forward(x, y, rows, cols, false);
    }

    public static KernelLaunch logForward(F32Buffer x, F32Buffer y, int rows, int cols) {
        return forward(x, y, rows, cols, true);
    }

    public static KernelLaunch backward(F32Buffer y, F32Buffer dy, F32Buffer dx, int rows, int cols) {
        return backward(y, dy, dx, rows, cols, false);
    }

    public static KernelLaunch logBackward(F32Buffer y, F32Buffer dy, F32Buffer dx, int rows, int cols) {
        return backward(y, dy, dx, rows, cols, true);
    }

    private static KernelLaunch forward(F32Buffer x, F32Buffer y, int rows, int cols, boolean log) {
        long n = (long) rows * cols;
        requireLength("Softmax.forward", "x", x, n);
        requireLength("Softmax.forward", "y", y, n);
        return FORWARD.launch(Launches.perRow(rows), x, y, rows, cols, log ? 1 : 0);
    }

    private static KernelLaunch backward(F32Buffer y, F32Buffer dy, F32Buffer dx, int rows, int cols, boolean log) {
        long n = (long) rows * cols;
        requireLength("Softmax.backward", "y", y, n);
        requireLength("Softmax.backward", "dy", dy, n);
        requireLength("Softmax.backward", "dx", dx, n);
        return BACKWARD.launch(Launches.perRow(rows), y, dy, dx, rows, cols, log ? 1 : 0);
    }
}
