package nvlm.bench.gpu;

import java.util.List;
import nvlm.kernels.translator.BF16Buffer;
import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.Kernel;
import nvlm.kernels.translator.KernelContext;
import nvlm.kernels.translator.KernelLaunch;
import nvlm.kernels.translator.LaunchConfig;

/**
 * Uniform random values in [-1, 1) made on the device (a SplitMix64 hash of the element index
 * and a seed), so benchmarks fill hundreds of megabytes without a host copy, and never time
 * zeros (zeros run faster than real data).
 */
public final class RandomFill {
    private RandomFill() {
    }

    private static final GpuKernel BF16 = GpuKernel.of(RandomFill.class, "bf16Kernel");
    private static final GpuKernel F32 = GpuKernel.of(RandomFill.class, "f32Kernel");

    /** SplitMix64's finaliser: a well-mixed 64-bit value of i and seed, top 24 bits scaled to [-1, 1). */
    static float uniform(long i, long seed) {
        long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (float) (z >>> 40) * 0x1p-23f - 1f;
    }

    @Kernel
    static void bf16Kernel(KernelContext kc, BF16Buffer out, long n, long seed) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            out.set(i, uniform(i, seed));
        }
    }

    @Kernel
    static void f32Kernel(KernelContext kc, F32Buffer out, long n, long seed) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            out.set(i, uniform(i, seed));
        }
    }

    private static LaunchConfig grid(long n) {
        return LaunchConfig.of((int) Math.max(1, Math.min(4096, (n + 255) / 256)), 256);
    }

    public static KernelLaunch bf16(BF16Buffer out, long n, long seed) {
        return new KernelLaunch(BF16, grid(n), List.of(out, n, seed));
    }

    public static KernelLaunch f32(F32Buffer out, long n, long seed) {
        return new KernelLaunch(F32, grid(n), List.of(out, n, seed));
    }
}
