package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Grids.requireLength;

import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.GpuKernel;
import nvlm.kernels.hat.Kernel;
import nvlm.kernels.hat.KernelContext;
import nvlm.kernels.hat.KernelLaunch;

/**
 * Rotary position embedding, rotate-half form (Qwen2, docs/model.md §5), on [B, T, H, D] tensors
 * read and written through (batch, token, head) strides with D contiguous, so q and k can be
 * rotated in place inside a fused qkv buffer. Token t of the sequence has position startPos + t;
 * pair i (i &lt; D/2) is (x[i], x[i + D/2]) rotated by angle position * theta^(-2i/D). The
 * angle is formed in float as Hugging Face does (inv_freq in float, then position * inv_freq).
 */
public final class Rope {
    private Rope() {
    }

    static float inverseFrequency(int i, int headDim, float theta) {
        float exponent = (float) (2 * i) / headDim;
        return 1f / (float) Math.pow(theta, exponent);
    }

    /** y = rope(x); backward (sign -1) applies the inverse rotation, which is the gradient of the forward. */
    @Kernel
    static void rotateKernel(KernelContext kc, F32Buffer x, long xsB, long xsT, long xsH,
                             F32Buffer y, long ysB, long ysT, long ysH,
                             int batch, int tokens, int heads, int headDim, int startPos, float theta, int sign) {
        int half = headDim / 2;
        long n = (long) batch * tokens * heads * half;
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            int i = (int) (e % half);
            long rest = e / half;
            int h = (int) (rest % heads);
            rest /= heads;
            int t = (int) (rest % tokens);
            int b = (int) (rest / tokens);
            float angle = (float) (startPos + t) * inverseFrequency(i, headDim, theta);
            float cos = (float) Math.cos(angle);
            float sin = sign * (float) Math.sin(angle);
            long xi = b * xsB + t * xsT + h * xsH + i;
            long yi = b * ysB + t * ysT + h * ysH + i;
            float x1 = x.get(xi);
            float x2 = x.get(xi + half);
            y.set(yi, x1 * cos - x2 * sin);
            y.set(yi + half, x2 * cos + x1 * sin);
        }
    }

    /**
     * Rotates x [batch, tokens, heads, headDim] (strides xStrides = {batch, token, head}) into y
     * (yStrides); y may be x. headDim must be even.
     */
    public static KernelLaunch forward(F32Buffer x, long[] xStrides, F32Buffer y, long[] yStrides,
                                       int batch, int tokens, int heads, int headDim, int startPos, float theta) {
        return launch("Rope.forward", x, xStrides, y, yStrides, batch, tokens, heads, headDim, startPos, theta, 1);
    }

    /** dx from dy: the transposed (inverse) rotation. dx may be dy. */
    public static KernelLaunch backward(F32Buffer dy, long[] dyStrides, F32Buffer dx, long[] dxStrides,
                                        int batch, int tokens, int heads, int headDim, int startPos, float theta) {
        return launch("Rope.backward", dy, dyStrides, dx, dxStrides, batch, tokens, heads, headDim, startPos, theta, -1);
    }

    /** {batch, token, head} strides of a contiguous [batch, tokens, heads, headDim] tensor. */
    public static long[] contiguousStrides(int tokens, int heads, int headDim) {
        return new long[] {(long) tokens * heads * headDim, (long) heads * headDim, headDim};
    }

    private static KernelLaunch launch(String kernel, F32Buffer x, long[] xs, F32Buffer y, long[] ys, int batch,
                                       int tokens, int heads, int headDim, int startPos, float theta, int sign) {
        Grids.require(headDim % 2 == 0, kernel + ": head dimension must be even, got " + headDim);
        Grids.require(xs.length == 3 && ys.length == 3, kernel + ": strides are {batch, token, head}");
        requireLength(kernel, "x", x, (batch - 1) * xs[0] + (tokens - 1) * xs[1] + (heads - 1) * xs[2] + headDim);
        requireLength(kernel, "y", y, (batch - 1) * ys[0] + (tokens - 1) * ys[1] + (heads - 1) * ys[2] + headDim);
        long pairs = (long) batch * tokens * heads * (headDim / 2);
        return GpuKernel.of(Rope.class, "rotateKernel").launch(Grids.elementwise(pairs), x, xs[0], xs[1], xs[2],
                y, ys[0], ys[1], ys[2], batch, tokens, heads, headDim, startPos, theta, sign);
    }
}
