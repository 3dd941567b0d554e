package nvlm.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.DoubleAdder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import nvlm.kernels.Parallel;

/**
 * Memory bandwidth over buffers as large as the bytes a decoded token reads (at least 256 MiB),
 * split over the kernel threads: a decoded token reads every weight once, so a bandwidth over
 * those bytes is its ceiling (the roofline). Two figures, each the best of a few passes (a
 * ceiling, so the best and not the median):
 * <ul>
 *   <li>{@link #copy}: bytes read plus bytes written per second by a copy (the STREAM convention);
 *   <li>{@link #read}: bytes per second of a vector sum that only reads, what decoding does.
 * </ul>
 * The buffers are as large as the weights because this machine's last-level cache can be hundreds
 * of MiB: a smaller buffer would measure the cache, not the memory the weights stream from.
 */
final class CopyBandwidth {
    private static final long MIN_BYTES = 256L << 20;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private CopyBandwidth() {
    }

    /** Copy bandwidth (read + written bytes per second) over two buffers of {@code bytes} each. */
    static double copy(long bytes) {
        long size = size(bytes);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment from = arena.allocate(size, 64);
            MemorySegment to = arena.allocate(size, 64);
            from.fill((byte) 1);
            to.fill((byte) 2);
            double best = 0;
            for (int i = 0; i < 4; i++) {
                long start = System.nanoTime();
                int chunks = Parallel.threads() * 16;
                long chunk = size / chunks;
                Parallel.forRange(chunks, 1, (c0, c1) -> MemorySegment.copy(from, c0 * chunk, to, c0 * chunk, (c1 - c0) * chunk));
                double seconds = (System.nanoTime() - start) / 1e9;
                best = Math.max(best, 2.0 * chunks * chunk / seconds);
            }
            return best;
        }
    }

    /** Read bandwidth (bytes per second) of a vector sum over one buffer of {@code bytes}. */
    static double read(long bytes) {
        long size = size(bytes);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(size, 64);
            buffer.fill((byte) 1);
            int chunks = Parallel.threads() * 16;
            long step = 2L * F.vectorByteSize();
            long chunk = size / chunks / step * step;
            DoubleAdder sink = new DoubleAdder();
            double best = 0;
            for (int i = 0; i < 4; i++) {
                long start = System.nanoTime();
                Parallel.forRange(chunks, 1, (c0, c1) -> sink.add(sum(buffer, c0 * chunk, c1 * chunk, step)));
                double seconds = (System.nanoTime() - start) / 1e9;
                best = Math.max(best, (double) chunks * chunk / seconds);
            }
            if (Double.isNaN(sink.sum())) {
                throw new AssertionError("the sum is read so that the loads are not removed");
            }
            return best;
        }
    }

    private static float sum(MemorySegment buffer, long from, long to, long step) {
        FloatVector a = FloatVector.zero(F);
        FloatVector b = FloatVector.zero(F);
        long half = F.vectorByteSize();
        for (long at = from; at < to; at += step) {
            a = a.add(FloatVector.fromMemorySegment(F, buffer, at, ByteOrder.LITTLE_ENDIAN));
            b = b.add(FloatVector.fromMemorySegment(F, buffer, at + half, ByteOrder.LITTLE_ENDIAN));
        }
        return a.add(b).reduceLanes(VectorOperators.ADD);
    }

    private static long size(long bytes) {
        return Math.max(MIN_BYTES, bytes) / 4096 * 4096;
    }
}
