package nvlm.cuda.backend.kernels;

import java.util.List;
import nvlm.kernels.hat.BF16Buffer;
import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.GpuKernel;
import nvlm.kernels.hat.Kernel;
import nvlm.kernels.hat.KernelContext;
import nvlm.kernels.hat.KernelLaunch;

/**
 * Rounds an f32 matrix operand to bfloat16 for the tensor cores (round to nearest even, as
 * {@link nvlm.kernels.DType#floatToBf16}): a [batch, rows, cols] view with unit column stride and
 * any row and batch strides, packed into [batch, rows, cols] (ld = cols). One launch per operand,
 * whatever its layout.
 */
public final class GemmOperands {
    private GemmOperands() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel PACK_BF16_KERNEL = GpuKernel.of(GemmOperands.class, "packBf16Kernel");

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

    public static KernelLaunch packBf16(F32Buffer src, long batchStride, long rowStride, BF16Buffer dst, long batch,
                                        long rows, long cols) {
        Launches.require(batch >= 1 && rows >= 1 && cols >= 1 && rowStride >= cols && batchStride >= 0,
                "GemmOperands.packBf16: bad operand layout batch=" + batch + " rows=" + rows + " cols=" + cols
                        + " rowStride=" + rowStride + " batchStride=" + batchStride);
        Launches.requireLength("GemmOperands.packBf16", "src", src,
                (batch - 1) * batchStride + (rows - 1) * rowStride + cols);
        Launches.requireLength("GemmOperands.packBf16", "dst", dst, batch * rows * cols);
        return new KernelLaunch(PACK_BF16_KERNEL,
                Launches.elementwise(batch * rows * cols), List.of(src, batchStride, rowStride, dst, batch, rows, cols));
    }
}
