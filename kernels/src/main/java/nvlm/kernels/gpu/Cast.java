package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Grids.requireLength;

import nvlm.kernels.hat.BF16Buffer;
import nvlm.kernels.hat.F16Buffer;
import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.GpuKernel;
import nvlm.kernels.hat.I32Buffer;
import nvlm.kernels.hat.I64Buffer;
import nvlm.kernels.hat.Kernel;
import nvlm.kernels.hat.KernelContext;
import nvlm.kernels.hat.KernelLaunch;

/**
 * Dtype conversions. Narrowing to bfloat16 and half rounds to nearest even (as
 * {@link nvlm.kernels.DType#floatToBf16}); int64 to int32 keeps the low 32 bits (as a Java cast).
 */
public final class Cast {
    private Cast() {
    }

    @Kernel
    static void f32ToBf16Kernel(KernelContext kc, F32Buffer x, BF16Buffer y, long n) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            y.set(i, x.get(i));
        }
    }

    @Kernel
    static void bf16ToF32Kernel(KernelContext kc, BF16Buffer x, F32Buffer y, long n) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            y.set(i, x.get(i));
        }
    }

    @Kernel
    static void f32ToF16Kernel(KernelContext kc, F32Buffer x, F16Buffer y, long n) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            y.set(i, x.get(i));
        }
    }

    @Kernel
    static void f16ToF32Kernel(KernelContext kc, F16Buffer x, F32Buffer y, long n) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            y.set(i, x.get(i));
        }
    }

    @Kernel
    static void i64ToI32Kernel(KernelContext kc, I64Buffer x, I32Buffer y, long n) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            y.set(i, (int) x.get(i));
        }
    }

    @Kernel
    static void i32ToI64Kernel(KernelContext kc, I32Buffer x, I64Buffer y, long n) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            y.set(i, x.get(i));
        }
    }

    public static KernelLaunch f32ToBf16(F32Buffer x, BF16Buffer y, long n) {
        check("Cast.f32ToBf16", x, y, n);
        return GpuKernel.of(Cast.class, "f32ToBf16Kernel").launch(Grids.elementwise(n), x, y, n);
    }

    public static KernelLaunch bf16ToF32(BF16Buffer x, F32Buffer y, long n) {
        check("Cast.bf16ToF32", x, y, n);
        return GpuKernel.of(Cast.class, "bf16ToF32Kernel").launch(Grids.elementwise(n), x, y, n);
    }

    public static KernelLaunch f32ToF16(F32Buffer x, F16Buffer y, long n) {
        check("Cast.f32ToF16", x, y, n);
        return GpuKernel.of(Cast.class, "f32ToF16Kernel").launch(Grids.elementwise(n), x, y, n);
    }

    public static KernelLaunch f16ToF32(F16Buffer x, F32Buffer y, long n) {
        check("Cast.f16ToF32", x, y, n);
        return GpuKernel.of(Cast.class, "f16ToF32Kernel").launch(Grids.elementwise(n), x, y, n);
    }

    public static KernelLaunch i64ToI32(I64Buffer x, I32Buffer y, long n) {
        check("Cast.i64ToI32", x, y, n);
        return GpuKernel.of(Cast.class, "i64ToI32Kernel").launch(Grids.elementwise(n), x, y, n);
    }

    public static KernelLaunch i32ToI64(I32Buffer x, I64Buffer y, long n) {
        check("Cast.i32ToI64", x, y, n);
        return GpuKernel.of(Cast.class, "i32ToI64Kernel").launch(Grids.elementwise(n), x, y, n);
    }

    private static void check(String kernel, nvlm.kernels.hat.Buffer x, nvlm.kernels.hat.Buffer y, long n) {
        requireLength(kernel, "x", x, n);
        requireLength(kernel, "y", y, n);
    }
}
