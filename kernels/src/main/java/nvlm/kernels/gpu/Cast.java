package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Launches.requireLength;

import nvlm.kernels.translator.BF16Buffer;
import nvlm.kernels.translator.Buffer;
import nvlm.kernels.translator.F16Buffer;
import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.Kernel;
import nvlm.kernels.translator.KernelContext;
import nvlm.kernels.translator.KernelLaunch;

/**
 * Contiguous conversions between f32 and the 16-bit floats, and the bf16 packing of GEMM operands.
 * Narrowing rounds to nearest even (as {@link nvlm.kernels.DType#floatToBf16}). Conversions
 * between other dtypes and through strided views are {@link StridedCopy#convert}.
 */
public final class Cast {
    private Cast() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel F32_TO_BF16 = GpuKernel.of(Cast.class, "f32ToBf16Kernel");
    private static final GpuKernel BF16_TO_F32 = GpuKernel.of(Cast.class, "bf16ToF32Kernel");
    private static final GpuKernel F32_TO_F16 = GpuKernel.of(Cast.class, "f32ToF16Kernel");
    private static final GpuKernel F16_TO_F32 = GpuKernel.of(Cast.class, "f16ToF32Kernel");
    private static final GpuKernel PACK_BF16 = GpuKernel.of(Cast.class, "packBf16Kernel");

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

    /**
     * A [batch, rows, cols] f32 view with unit column stride and any row and batch strides,
     * rounded to bf16 and packed into [batch, rows, cols] (ld = cols): one launch per GEMM operand
     * for the tensor cores, whatever its layout.
     */
    @Kernel
    static void packBf16Kernel(KernelContext kc, F32Buffer src, long batchStride, long rowStride, BF16Buffer dst,
                               long batch, long rows, long cols) {
        long n = batch * rows * cols;
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            long c = e % cols;
            long r = (e / cols) % rows;
            long b = e / (rows * cols);
            dst.set(e, src.get(b * batchStride + r * rowStride + c));
        }
    }

    public static KernelLaunch f32ToBf16(F32Buffer x, BF16Buffer y, long n) {
        check("Cast.f32ToBf16", x, y, n);
        return F32_TO_BF16.launch(Launches.elementwise(n), x, y, n);
    }

    public static KernelLaunch bf16ToF32(BF16Buffer x, F32Buffer y, long n) {
        check("Cast.bf16ToF32", x, y, n);
        return BF16_TO_F32.launch(Launches.elementwise(n), x, y, n);
    }

    public static KernelLaunch f32ToF16(F32Buffer x, F16Buffer y, long n) {
        check("Cast.f32ToF16", x, y, n);
        return F32_TO_F16.launch(Launches.elementwise(n), x, y, n);
    }

    public static KernelLaunch f16ToF32(F16Buffer x, F32Buffer y, long n) {
        check("Cast.f16ToF32", x, y, n);
        return F16_TO_F32.launch(Launches.elementwise(n), x, y, n);
    }

    public static KernelLaunch packBf16(F32Buffer src, long batchStride, long rowStride, BF16Buffer dst, long batch,
                                        long rows, long cols) {
        Launches.require(batch >= 1 && rows >= 1 && cols >= 1 && rowStride >= cols && batchStride >= 0,
                "Cast.packBf16: bad operand layout batch=" + batch + " rows=" + rows + " cols=" + cols
                        + " rowStride=" + rowStride + " batchStride=" + batchStride);
        requireLength("Cast.packBf16", "src", src, (batch - 1) * batchStride + (rows - 1) * rowStride + cols);
        requireLength("Cast.packBf16", "dst", dst, batch * rows * cols);
        return PACK_BF16.launch(Launches.elementwise(batch * rows * cols), src, batchStride, rowStride, dst, batch, rows,
                cols);
    }

    private static void check(String kernel, Buffer x, Buffer y, long n) {
        requireLength(kernel, "x", x, n);
        requireLength(kernel, "y", y, n);
    }
}
