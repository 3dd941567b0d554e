package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import nvlm.kernels.Parallel;

/**
 * Deterministic accumulation of per-column parameter gradients (norm weights and biases) over
 * many rows: the rows are cut into a fixed number of chunks that depends only on the row count,
 * each chunk sums its rows into its own f32 partial, and the partials are added to the gradient
 * in chunk order. No shared accumulator is written by two threads, and the bits do not depend on
 * the thread count.
 */
final class ColumnGradients {
    /** Number of row chunks (when there are at least that many rows). */
    static final int CHUNKS = 16;
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    @FunctionalInterface
    interface ChunkBody {
        /** Process rows [start, end) of chunk {@code chunk}. */
        void run(int chunk, int start, int end);
    }

    private ColumnGradients() {
    }

    static int chunks(int rows) {
        return Math.min(rows, CHUNKS);
    }

    /** Runs every chunk, spread over the pool when rows * cols is large enough. */
    static void forChunks(int rows, int cols, ChunkBody body) {
        int k = chunks(rows);
        if (k == 0) {
            return;
        }
        long workPerChunk = Math.max(1, (long) rows * cols / k);
        int grain = (int) Math.max(1, Math.min(k, ElementBlocks.MIN_PER_TASK / workPerChunk));
        Parallel.forRange(k, grain, (s, e) -> {
            for (int c = s; c < e; c++) {
                body.run(c, (int) ((long) rows * c / k), (int) ((long) rows * (c + 1) / k));
            }
        });
    }

    /** g[j] += (partials[0][j] + partials[1][j] + ...), the partials added left to right, for j < cols. */
    static void addInto(float[][] partials, MemorySegment g, long gOff, int cols) {
        ElementBlocks.forElements(cols, ElementBlocks.MIN_PER_TASK / Math.max(1, partials.length),
                (s, e) -> addRange(partials, g, gOff, (int) s, (int) e));
    }

    private static void addRange(float[][] partials, MemorySegment g, long gOff, int start, int end) {
        int j = start;
        for (; j + LANES <= end; j += LANES) {
            FloatVector sum = FloatVector.fromArray(SPECIES, partials[0], j);
            for (int c = 1; c < partials.length; c++) {
                sum = sum.add(FloatVector.fromArray(SPECIES, partials[c], j));
            }
            FloatVector.fromMemorySegment(SPECIES, g, (gOff + j) * 4, ORDER).add(sum).intoMemorySegment(g, (gOff + j) * 4, ORDER);
        }
        if (j < end) {
            VectorMask<Float> m = SPECIES.indexInRange(j, end);
            FloatVector sum = FloatVector.fromArray(SPECIES, partials[0], j, m);
            for (int c = 1; c < partials.length; c++) {
                sum = sum.add(FloatVector.fromArray(SPECIES, partials[c], j, m));
            }
            FloatVector.fromMemorySegment(SPECIES, g, (gOff + j) * 4, ORDER, m).add(sum)
                    .intoMemorySegment(g, (gOff + j) * 4, ORDER, m);
        }
    }
}
