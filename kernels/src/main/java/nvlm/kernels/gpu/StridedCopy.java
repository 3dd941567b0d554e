package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Grids.requireLength;

import java.util.Arrays;
import nvlm.kernels.hat.BF16Buffer;
import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.GpuKernel;
import nvlm.kernels.hat.Kernel;
import nvlm.kernels.hat.KernelContext;
import nvlm.kernels.hat.KernelLaunch;

/**
 * Copies a strided view of up to six dimensions into another: makes a permuted or sliced view
 * contiguous (destination strides row-major), transposes, or writes into a view. Element
 * (i0..i5) goes from {@code src[sum ik*sk]} to {@code dst[sum ik*tk]}.
 */
public final class StridedCopy {
    private StridedCopy() {
    }

    /** The largest rank a copy takes; lower ranks are padded with leading size-1 dimensions. */
    public static final int MAX_RANK = 6;

    @Kernel
    static void f32Kernel(KernelContext kc, F32Buffer src, long s0, long s1, long s2, long s3, long s4, long s5,
                          F32Buffer dst, long t0, long t1, long t2, long t3, long t4, long t5,
                          long d0, long d1, long d2, long d3, long d4, long d5) {
        long n = d0 * d1 * d2 * d3 * d4 * d5;
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            long rest = i;
            long i5 = rest % d5;
            rest /= d5;
            long i4 = rest % d4;
            rest /= d4;
            long i3 = rest % d3;
            rest /= d3;
            long i2 = rest % d2;
            rest /= d2;
            long i1 = rest % d1;
            long i0 = rest / d1;
            float value = src.get(i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3 + i4 * s4 + i5 * s5);
            dst.set(i0 * t0 + i1 * t1 + i2 * t2 + i3 * t3 + i4 * t4 + i5 * t5, value);
        }
    }

    /** As {@link #f32Kernel} for bfloat16 (widening and rounding back is exact: bits are copied, except that a signalling NaN comes out quiet). */
    @Kernel
    static void bf16Kernel(KernelContext kc, BF16Buffer src, long s0, long s1, long s2, long s3, long s4, long s5,
                           BF16Buffer dst, long t0, long t1, long t2, long t3, long t4, long t5,
                           long d0, long d1, long d2, long d3, long d4, long d5) {
        long n = d0 * d1 * d2 * d3 * d4 * d5;
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            long rest = i;
            long i5 = rest % d5;
            rest /= d5;
            long i4 = rest % d4;
            rest /= d4;
            long i3 = rest % d3;
            rest /= d3;
            long i2 = rest % d2;
            rest /= d2;
            long i1 = rest % d1;
            long i0 = rest / d1;
            float value = src.get(i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3 + i4 * s4 + i5 * s5);
            dst.set(i0 * t0 + i1 * t1 + i2 * t2 + i3 * t3 + i4 * t4 + i5 * t5, value);
        }
    }

    /** Copies {@code src} viewed with {@code srcStrides} into {@code dst} viewed with {@code dstStrides}, over {@code shape}. */
    public static KernelLaunch f32(F32Buffer src, long[] srcStrides, F32Buffer dst, long[] dstStrides, long[] shape) {
        Object[] args = arguments("StridedCopy.f32", src, srcStrides, dst, dstStrides, shape);
        return GpuKernel.of(StridedCopy.class, "f32Kernel").launch(Grids.elementwise(elements(shape)), args);
    }

    public static KernelLaunch bf16(BF16Buffer src, long[] srcStrides, BF16Buffer dst, long[] dstStrides, long[] shape) {
        Object[] args = arguments("StridedCopy.bf16", src, srcStrides, dst, dstStrides, shape);
        return GpuKernel.of(StridedCopy.class, "bf16Kernel").launch(Grids.elementwise(elements(shape)), args);
    }

    /** Row-major strides of a contiguous tensor of {@code shape}. */
    public static long[] contiguousStrides(long[] shape) {
        long[] strides = new long[shape.length];
        long stride = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = stride;
            stride *= shape[i];
        }
        return strides;
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static Object[] arguments(String kernel, nvlm.kernels.hat.Buffer src, long[] srcStrides,
                                      nvlm.kernels.hat.Buffer dst, long[] dstStrides, long[] shape) {
        Grids.require(shape.length >= 1 && shape.length <= MAX_RANK && srcStrides.length == shape.length
                        && dstStrides.length == shape.length,
                kernel + ": shape " + Arrays.toString(shape) + ", source strides " + Arrays.toString(srcStrides)
                        + " and destination strides " + Arrays.toString(dstStrides) + " must have the same rank, 1 to " + MAX_RANK);
        long srcLast = 0;
        long dstLast = 0;
        for (int i = 0; i < shape.length; i++) {
            Grids.require(shape[i] >= 1, kernel + ": shape " + Arrays.toString(shape) + " has an empty dimension");
            Grids.require(srcStrides[i] >= 0 && dstStrides[i] >= 0, kernel + ": negative strides are not supported");
            srcLast += (shape[i] - 1) * srcStrides[i];
            dstLast += (shape[i] - 1) * dstStrides[i];
        }
        requireLength(kernel, "src", src, srcLast + 1);
        requireLength(kernel, "dst", dst, dstLast + 1);
        Object[] args = new Object[2 + 3 * MAX_RANK];
        int pad = MAX_RANK - shape.length;
        args[0] = src;
        args[1 + MAX_RANK] = dst;
        for (int i = 0; i < MAX_RANK; i++) {
            int k = i - pad;
            args[1 + i] = k < 0 ? 0L : srcStrides[k];
            args[2 + MAX_RANK + i] = k < 0 ? 0L : dstStrides[k];
            args[2 + 2 * MAX_RANK + i] = k < 0 ? 1L : shape[k];
        }
        return args;
    }
}
