package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Grids.requireLength;

import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.GpuKernel;
import nvlm.kernels.hat.I32Buffer;
import nvlm.kernels.hat.Kernel;
import nvlm.kernels.hat.KernelContext;
import nvlm.kernels.hat.KernelLaunch;
import nvlm.kernels.hat.LaunchConfig;

/**
 * Embedding lookup: out[n, :] = table[ids[n], :] for a [vocab, dim] table, and its backward, a
 * scatter-add of the output gradient into the table gradient. The deterministic backward gives
 * each table row to one block, which scans the ids for its row (no atomics, fixed order, work
 * vocab * tokens id reads); the atomic one adds with atomicAdd (fast, order not fixed).
 */
public final class Embedding {
    private Embedding() {
    }

    /** An id outside [0, vocab) yields a row of NaN (a kernel cannot throw; the launcher's caller should check ids). */
    @Kernel
    static void forwardKernel(KernelContext kc, I32Buffer ids, F32Buffer table, F32Buffer out, int tokens, int dim, int vocab) {
        long n = (long) tokens * dim;
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            int token = (int) (e / dim);
            int d = (int) (e % dim);
            int id = ids.get(token);
            out.set(e, id >= 0 && id < vocab ? table.get((long) id * dim + d) : Float.NaN);
        }
    }

    /** dtable[v, :] += sum of dout[n, :] over the tokens n with ids[n] == v; one block per table row (grid-stride). */
    @Kernel
    static void backwardKernel(KernelContext kc, I32Buffer ids, F32Buffer dout, F32Buffer dtable, int tokens, int dim, int vocab) {
        for (int v = kc.bix(); v < vocab; v += kc.bsx()) {
            for (int d = kc.lix(); d < dim; d += kc.lsx()) {
                float acc = 0f;
                boolean used = false;
                for (int n = 0; n < tokens; n++) {
                    if (ids.get(n) == v) {
                        acc += dout.get((long) n * dim + d);
                        used = true;
                    }
                }
                if (used) {
                    long i = (long) v * dim + d;
                    dtable.set(i, dtable.get(i) + acc);
                }
            }
        }
    }

    /** As {@link #backwardKernel} with atomicAdd, one thread per output element; ids outside [0, vocab) are skipped. */
    @Kernel
    static void backwardAtomicKernel(KernelContext kc, I32Buffer ids, F32Buffer dout, F32Buffer dtable, int tokens, int dim, int vocab) {
        long n = (long) tokens * dim;
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            int token = (int) (e / dim);
            int d = (int) (e % dim);
            int id = ids.get(token);
            if (id >= 0 && id < vocab) {
                dtable.atomicAdd((long) id * dim + d, dout.get(e));
            }
        }
    }

    public static KernelLaunch forward(I32Buffer ids, F32Buffer table, F32Buffer out, int tokens, int dim, int vocab) {
        requireLength("Embedding.forward", "ids", ids, tokens);
        requireLength("Embedding.forward", "table", table, (long) vocab * dim);
        requireLength("Embedding.forward", "out", out, (long) tokens * dim);
        return GpuKernel.of(Embedding.class, "forwardKernel").launch(Grids.elementwise((long) tokens * dim),
                ids, table, out, tokens, dim, vocab);
    }

    /** Deterministic scatter-add into dtable (which it adds to, so zero it first for a fresh gradient). */
    public static KernelLaunch backward(I32Buffer ids, F32Buffer dout, F32Buffer dtable, int tokens, int dim, int vocab) {
        check("Embedding.backward", ids, dout, dtable, tokens, dim, vocab);
        int threads = Math.min(256, Math.max(32, Integer.highestOneBit(Math.max(1, dim - 1)) * 2));
        return GpuKernel.of(Embedding.class, "backwardKernel").launch(LaunchConfig.of(Math.max(1, vocab), threads),
                ids, dout, dtable, tokens, dim, vocab);
    }

    /** Scatter-add with atomics: faster, but float sums land in a varying order. */
    public static KernelLaunch backwardAtomic(I32Buffer ids, F32Buffer dout, F32Buffer dtable, int tokens, int dim, int vocab) {
        check("Embedding.backwardAtomic", ids, dout, dtable, tokens, dim, vocab);
        return GpuKernel.of(Embedding.class, "backwardAtomicKernel").launch(Grids.elementwise((long) tokens * dim),
                ids, dout, dtable, tokens, dim, vocab);
    }

    private static void check(String kernel, I32Buffer ids, F32Buffer dout, F32Buffer dtable, int tokens, int dim, int vocab) {
        requireLength(kernel, "ids", ids, tokens);
        requireLength(kernel, "dout", dout, (long) tokens * dim);
        requireLength(kernel, "dtable", dtable, (long) vocab * dim);
    }
}
