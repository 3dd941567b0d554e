package nvlm.cuda.backend.kernels;

import java.util.List;
import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.GpuKernel;
import nvlm.kernels.hat.I64Buffer;
import nvlm.kernels.hat.Kernel;
import nvlm.kernels.hat.KernelContext;
import nvlm.kernels.hat.KernelLaunch;
import nvlm.kernels.hat.LaunchConfig;

/**
 * Row gathers and scatters by I64 index, as the tensor Backend passes them (the embedding kernels
 * of {@code nvlm.kernels.gpu.Embedding} take I32 ids and would need a conversion launch first):
 * embedding lookup, its scatter-add backward, and {@code indexCopyRows}. A kernel cannot throw:
 * an id outside the table gives a NaN row in the lookup and is skipped by the scatters.
 */
public final class IndexedRows {
    private IndexedRows() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel COPY_ROWS_KERNEL = GpuKernel.of(IndexedRows.class, "copyRowsKernel");
    private static final GpuKernel GATHER_KERNEL = GpuKernel.of(IndexedRows.class, "gatherKernel");
    private static final GpuKernel SCATTER_ADD_ATOMIC_KERNEL = GpuKernel.of(IndexedRows.class, "scatterAddAtomicKernel");
    private static final GpuKernel SCATTER_ADD_KERNEL = GpuKernel.of(IndexedRows.class, "scatterAddKernel");

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
        Launches.requireLength("IndexedRows.gather", "table", table, vocab * dim);
        Launches.requireLength("IndexedRows.gather", "ids", ids, count);
        Launches.requireLength("IndexedRows.gather", "out", out, count * dim);
        return new KernelLaunch(GATHER_KERNEL, Launches.elementwise(count * dim),
                List.of(table, ids, out, count, dim, vocab));
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
        Launches.requireLength("IndexedRows.scatterAdd", "gOut", gOut, count * dim);
        Launches.requireLength("IndexedRows.scatterAdd", "ids", ids, count);
        Launches.requireLength("IndexedRows.scatterAdd", "gTable", gTable, vocab * dim);
        if (deterministic(count, vocab)) {
            LaunchConfig grid = LaunchConfig.of((int) Math.max(1, Math.min(Integer.MAX_VALUE, vocab)), scatterThreads(dim));
            return new KernelLaunch(SCATTER_ADD_KERNEL, grid,
                    List.of(gOut, ids, gTable, count, dim, vocab));
        }
        return new KernelLaunch(SCATTER_ADD_ATOMIC_KERNEL,
                Launches.elementwise(count * dim), List.of(gOut, ids, gTable, count, dim, vocab));
    }

    public static KernelLaunch copyRows(F32Buffer dst, I64Buffer index, F32Buffer src, long count, long dim, long dstRows) {
        Launches.requireLength("IndexedRows.copyRows", "dst", dst, dstRows * dim);
        Launches.requireLength("IndexedRows.copyRows", "index", index, count);
        Launches.requireLength("IndexedRows.copyRows", "src", src, count * dim);
        return new KernelLaunch(COPY_ROWS_KERNEL, Launches.elementwise(count * dim),
                List.of(dst, index, src, count, dim, dstRows));
    }
}
