package nvlm.kernels.gpu;

import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.Kernel;
import nvlm.kernels.translator.KernelContext;
import nvlm.kernels.translator.KernelLaunch;

/**
 * Rotate-half RoPE (docs/model.md §5) on contiguous [batch, seq, heads, headDim] with cos and sin read from
 * a table [positions, headDim/2] made on the host in double and rounded once to f32, exactly the
 * CPU backend's table ({@code nvlm.kernels.cpu.Rope}). The angle is not formed in float on the
 * device: at positions of a few hundred with theta = 1e6 a float angle already differs from the
 * double one by about 3e-5, more than the f32 parity tolerance.
 */
public final class Rope {
    private Rope() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel ROTATE = GpuKernel.of(Rope.class, "rotateKernel");

    /** inv_freq[i] = theta^(-2i/headDim) in double (docs/model.md §5), as the CPU backend computes it. */
    public static double inverseFrequency(int i, int headDim, double theta) {
        return Math.pow(theta, -2.0 * i / headDim);
    }

    /** cos (first half) and sin (second half) of pos * inv_freq[i] for pos in [0, positions), [pos * half + i]. */
    public static float[] table(int headDim, double theta, int positions) {
        int half = headDim / 2;
        float[] values = new float[2 * positions * half];
        for (int i = 0; i < half; i++) {
            double invFreq = inverseFrequency(i, headDim, theta);
            for (int p = 0; p < positions; p++) {
                double angle = p * invFreq;
                values[p * half + i] = (float) Math.cos(angle);
                values[positions * half + p * half + i] = (float) Math.sin(angle);
            }
        }
        return values;
    }

    /** One thread per (row, i) pair; sign -1 rotates back (the backward). y may be x. */
    @Kernel
    static void rotateKernel(KernelContext kc, F32Buffer x, F32Buffer y, F32Buffer table, long rows, int seq, int heads,
                             int headDim, int startPos, int positions, float sign) {
        int half = headDim / 2;
        long n = rows * half;
        long sinBase = (long) positions * half;
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            long row = e / half;
            int i = (int) (e % half);
            int pos = startPos + (int) ((row / heads) % seq);
            float c = table.get((long) pos * half + i);
            float s = sign * table.get(sinBase + (long) pos * half + i);
            long at = row * headDim + i;
            float x1 = x.get(at);
            float x2 = x.get(at + half);
            y.set(at, x1 * c - x2 * s);
            y.set(at + half, x2 * c + x1 * s);
        }
    }

    /**
     * Rotates x [batch, seq, heads, headDim] into y (both contiguous) with a table of
     * {@code positions} positions, which must cover startPos + seq.
     */
    public static KernelLaunch rotate(F32Buffer x, F32Buffer y, F32Buffer table, int batch, int seq, int heads,
                                      int headDim, int startPos, int positions, boolean inverse) {
        Launches.require(headDim % 2 == 0, "Rope.rotate: head dimension must be even, got " + headDim);
        Launches.require(startPos >= 0 && (long) startPos + seq <= positions, "Rope.rotate: positions "
                + startPos + ".." + ((long) startPos + seq) + " outside a table of " + positions);
        long rows = (long) batch * seq * heads;
        Launches.requireLength("Rope.rotate", "x", x, rows * headDim);
        Launches.requireLength("Rope.rotate", "y", y, rows * headDim);
        Launches.requireLength("Rope.rotate", "table", table, (long) positions * headDim);
        return ROTATE.launch(Launches.elementwise(rows * (headDim / 2)), x, y, table, rows, seq, heads, headDim,
                startPos, positions, inverse ? -1f : 1f);
    }
}
