package nvlm.kernels.gpu;

import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.I64Buffer;
import nvlm.kernels.translator.Kernel;
import nvlm.kernels.translator.KernelContext;
import nvlm.kernels.translator.KernelLaunch;
import nvlm.kernels.translator.LaunchConfig;

/**
 * Row gathers and scatters by I64 index, as the tensor Backend passes them: the embedding lookup,
 * its scatter-add backward (deterministic, or with atomics for very large tables), and the row
 * copy of {@code indexCopyRows}. A kernel cannot throw: an id outside the table gives a NaN row in
 * the lookup and is skipped by the scatters.
 */
public final class Embedding {
    private Embedding() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel COPY_ROWS = GpuKernel.of(Embedding.class, "copyRowsKernel");
    private static final GpuKernel GATHER = GpuKernel.of(Embedding.class, "gatherKernel");
    private static final GpuKernel SCATTER_ADD_ATOMIC = GpuKernel.of(Embedding.class, "scatterAddAtomicKernel");
    private static final GpuKernel SCATTER_ADD = GpuKernel.of(Embedding.class, "scatterAddKernel");

    /**
     * Above this many (table rows x ids) pairs the deterministic backward, which gives each table
     * row to one block that scans every id, costs more than atomics: about 2^26 id reads.
     */
    public static final long DETERMINISTIC_LIMIT = 1L << 26;

    /** out[r, :] = table[ids[r], :]. */
    @Kernel
    static void gatherKernel(KernelContext kc, F32Buffer table, I64Buffer ids, F32Buffer out, long count, long dim,
                             long vocab) {
        long n = count * dim;
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            long r = e / dim;
            long d = e % dim;
            long id = ids.get(r);
            out.set(e, id >= 0 && id < vocab ? table.get(id * dim + d) : Float.NaN);
        }
    }

    /** gTable[v, :] += sum of gOut[r, :] over r with ids[r] == v, in order of r; one block per table row. */
    @Kernel
    static void scatterAddKernel(KernelContext kc, F32Buffer gOut, I64Buffer ids, F32Buffer gTable, long count, long dim,
                                 long vocab) {
        for (long v = kc.bix(); v < vocab; v += kc.bsx()) {
            for (long d = kc.lix(); d < dim; d += kc.lsx()) {
                float acc = 0f;
                boolean used = false;
                for (long r = 0; r < count; r++) {
                    if (ids.get(r) == v) {
                        acc += gOut.get(r * dim + d);
                        used = true;
                    }
                }
                if (used) {
                    gTable.set(v * dim + d, gTable.get(v * dim + d) + acc);
                }
            }
        }
    }

    /** As {@link #scatterAddKernel} with atomicAdd, one thread per gOut element (sum order not fixed). */
    @Kernel
    static void scatterAddAtomicKernel(KernelContext kc, F32Buffer gOut, I64Buffer ids, F32Buffer gTable, long count,
                                       long dim, long vocab) {
        long n = count * dim;
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            long id = ids.get(e / dim);
            if (id >= 0 && id < vocab) {
                gTable.atomicAdd(id * dim + e % dim, gOut.get(e));
            }
        }
    }

    /** dst[index[r], :] = src[r, :]. */
    @Kernel
    static void copyRowsKernel(KernelContext kc, F32Buffer dst, I64Buffer index, F32Buffer src, long count, long dim,
                               long dstRows) {
        long n = count * dim;
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            long target = index.get(e / dim);
            if (target >= 0 && target < dstRows) {
                dst.set(target * dim + e % dim, src.get(e));
            }
        }
    }

    // ---- launchers -----------------------------------------------------------------------------

    public static KernelLaunch gather(F32Buffer table, I64Buffer ids, F32Buffer out, long count, long dim, long vocab) {
        Launches.requireLength("Embedding.gather", "table", table, vocab * dim);
        Launches.requireLength("Embedding.gather", "ids", ids, count);
        Launches.requireLength("Embedding.gather", "out", out, count * dim);
        return GATHER.launch(Launches.elementwise(count * dim), table, ids, out, count, dim, vocab);
    }

    /** Whether {@link #scatterAdd} takes the deterministic kernel for these sizes. */
    public static boolean deterministic(long count, long vocab) {
        return count * vocab <= DETERMINISTIC_LIMIT;
    }

    /** Threads per block of the deterministic scatter: the row width rounded up to a warp multiple, at most 256. */
    static int scatterThreads(long dim) {
        return (int) Math.max(32, Math.min(Launches.THREADS, (dim + 31) / 32 * 32));
    }

    /** gTable[ids[r], :] += gOut[r, :] (accumulates). */
    public static KernelLaunch scatterAdd(F32Buffer gOut, I64Buffer ids, F32Buffer gTable, long count, long dim,
                                          long vocab) {
        Launches.requireLength("Embedding.scatterAdd", "gOut", gOut, count * dim);
        Launches.requireLength("Embedding.scatterAdd", "ids", ids, count);
        Launches.requireLength("Embedding.scatterAdd", "gTable", gTable, vocab * dim);
        if (deterministic(count, vocab)) {
            LaunchConfig grid = LaunchConfig.of((int) Math.max(1, Math.min(Integer.MAX_VALUE, vocab)), scatterThreads(dim));
            return SCATTER_ADD.launch(grid, gOut, ids, gTable, count, dim, vocab);
        }
        return SCATTER_ADD_ATOMIC.launch(Launches.elementwise(count * dim), gOut, ids, gTable, count, dim, vocab);
    }

    public static KernelLaunch copyRows(F32Buffer dst, I64Buffer index, F32Buffer src, long count, long dim, long dstRows) {
        Launches.requireLength("Embedding.copyRows", "dst", dst, dstRows * dim);
        Launches.requireLength("Embedding.copyRows", "index", index, count);
        Launches.requireLength("Embedding.copyRows", "src", src, count * dim);
        return COPY_ROWS.launch(Launches.elementwise(count * dim), dst, index, src, count, dim, dstRows);
    }
}
