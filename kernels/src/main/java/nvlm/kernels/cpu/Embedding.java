package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Embedding lookup (token embeddings, docs/model.md §5) and its backward. Ids are I64. An id equal
 * to {@code skipId} (a padding id such as -1 or -100) gives a zero row in {@link #gather} and
 * contributes nothing in {@link #scatterAdd}; the overloads without skipId skip nothing.
 */
public final class Embedding {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;
    /** A skipId no valid id can equal: ids are checked to lie in [0, vocab). */
    private static final long NO_SKIP = Long.MIN_VALUE;

    private Embedding() {
    }

    /** out[r, :] = table[ids[r], :] for r < n. */
    public static void gather(MemorySegment table, long tableOff, int vocab, int dim, MemorySegment ids, long idsOff,
                              int n, MemorySegment out, long outOff) {
        gather(table, tableOff, vocab, dim, ids, idsOff, n, out, outOff, NO_SKIP);
    }

    /** out[r, :] = table[ids[r], :] for r < n, zeros where ids[r] == skipId. */
    public static void gather(MemorySegment table, long tableOff, int vocab, int dim, MemorySegment ids, long idsOff,
                              int n, MemorySegment out, long outOff, long skipId) {
        checkArguments("table", table, tableOff, vocab, dim, ids, idsOff, n, "out", out, outOff, skipId);
        long rowBytes = (long) dim * Float.BYTES;
        ElementBlocks.forElements(n, Math.max(1, ElementBlocks.MIN_PER_TASK * 4 / Math.max(1, dim)), (s, e) -> {
            for (long r = s; r < e; r++) {
                long id = ids.getAtIndex(I64, idsOff + r);
                long dst = (outOff + r * dim) * Float.BYTES;
                if (id == skipId) {
                    out.asSlice(dst, rowBytes).fill((byte) 0);
                } else {
                    MemorySegment.copy(table, (tableOff + id * dim) * Float.BYTES, out, dst, rowBytes);
                }
            }
        });
    }

    /** gTable[ids[r], :] += gOut[r, :] for r < n. */
    public static void scatterAdd(MemorySegment gOut, long gOutOff, MemorySegment ids, long idsOff, int n, int vocab,
                                  int dim, MemorySegment gTable, long gTableOff) {
        scatterAdd(gOut, gOutOff, ids, idsOff, n, vocab, dim, gTable, gTableOff, NO_SKIP);
    }

    /**
     * gTable[ids[r], :] += gOut[r, :] for r < n with ids[r] != skipId. Deterministic: the columns
     * are split over the pool and every thread adds the rows in order r = 0, 1, ..., so each
     * gradient element receives its contributions in the same order whatever the thread count.
     */
    public static void scatterAdd(MemorySegment gOut, long gOutOff, MemorySegment ids, long idsOff, int n, int vocab,
                                  int dim, MemorySegment gTable, long gTableOff, long skipId) {
        checkArguments("gTable", gTable, gTableOff, vocab, dim, ids, idsOff, n, "gOut", gOut, gOutOff, skipId);
        ElementBlocks.forElements(dim, Math.max(LANES, ElementBlocks.MIN_PER_TASK / Math.max(1, n)), (s, e) -> {
            int c0 = (int) s;
            int c1 = (int) e;
            for (long r = 0; r < n; r++) {
                long id = ids.getAtIndex(I64, idsOff + r);
                if (id == skipId) {
                    continue;
                }
                addRow(gOut, gOutOff + r * dim, gTable, gTableOff + id * dim, c0, c1);
            }
        });
    }

    /** dst[j] += src[j] for j in [c0, c1). */
    private static void addRow(MemorySegment src, long srcRow, MemorySegment dst, long dstRow, int c0, int c1) {
        int j = c0;
        for (; j + LANES <= c1; j += LANES) {
            F32Rows.load(dst, dstRow + j).add(F32Rows.load(src, srcRow + j)).intoMemorySegment(dst, (dstRow + j) * 4, ORDER);
        }
        if (j < c1) {
            VectorMask<Float> m = SPECIES.indexInRange(j, c1);
            F32Rows.load(dst, dstRow + j, m).add(F32Rows.load(src, srcRow + j, m)).intoMemorySegment(dst, (dstRow + j) * 4, ORDER, m);
        }
    }

    private static void checkArguments(String tableName, MemorySegment table, long tableOff, int vocab, int dim, MemorySegment ids,
                                       long idsOff, int n, String rowsName, MemorySegment rows, long rowsOff, long skipId) {
        Arguments.requireNonNegative("vocab", vocab);
        Arguments.requireNonNegative("dim", dim);
        Arguments.requireNonNegative("n", n);
        Arguments.requireF32(tableName, table, tableOff, (long) vocab * dim);
        Arguments.requireI64("ids", ids, idsOff, n);
        Arguments.requireF32(rowsName, rows, rowsOff, (long) n * dim);
        for (int r = 0; r < n; r++) {
            long id = ids.getAtIndex(I64, idsOff + r);
            if (id != skipId && (id < 0 || id >= vocab)) {
                throw new IllegalArgumentException("Embedding: ids[" + r + "] = " + id + " is outside [0, " + vocab + ")");
            }
        }
    }
}
