package nvlm.cuda.runtime;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;

import static nvlm.cuda.bindings.cuda_h.cuCtxSynchronize;

/**
 * Device memory reuse in the manner of PyTorch's caching allocator, without block splitting.
 * Requests are rounded up to a size bucket ({@link #roundSize}); a closed buffer's block goes back
 * to a cache instead of to cuMemFree. A cached block is reused
 * <ul>
 *   <li>by the stream it was freed on immediately (stream order already puts the new work after
 *       the old), and</li>
 *   <li>by another stream only once the event recorded on the freeing stream at the free has
 *       completed.</li>
 * </ul>
 * A block serves requests whose rounded size is within a quarter below its own, so small requests
 * don't pin large blocks. When the driver runs out of memory the cache is emptied and the
 * allocation retried once. Nothing depends on the garbage collector: memory returns on
 * {@link DeviceBuffer#close()} or with {@link #emptyCache()}.
 *
 * <p>The policy is independent of CUDA: it talks to a {@link Driver}, of which the CUDA driver API
 * on one stream is one implementation ({@link #onStream}). Thread-safe.
 */
public final class CachingAllocator implements AutoCloseable {

    /** What the allocator needs from a device. Streams and events are opaque handles. */
    public interface Driver {
        /** Allocates {@code bytes}; returns the device address, or 0 when the device is out of memory. */
        long malloc(long bytes);

        void free(long address);

        /**
         * Records an event at the current end of {@code stream}; returns its handle. A driver
         * whose buffers are all used on one stream records none: stream order alone makes a
         * freed block safe for the next allocation.
         */
        default long recordEvent(long stream) {
            return 0;
        }

        default boolean eventDone(long event) {
            return true;
        }

        default void destroyEvent(long event) {
        }

        /** Waits for all queued work on the device (before memory is handed back). */
        void synchronize();
    }

    /** Byte counts: allocated = held by live buffers, reserved = held from the driver (allocated + cached). */
    public record Stats(long allocatedBytes, long reservedBytes, long peakAllocatedBytes, long peakReservedBytes,
                        long liveBuffers, long cachedBlocks, long driverAllocations, long driverFrees, long cacheHits) {
        public long cachedBytes() {
            return reservedBytes - allocatedBytes;
        }
    }

    /** Requests up to 1 MiB are rounded to 512 bytes, larger ones to 2 MiB (PyTorch's granularities). */
    public static final long SMALL_LIMIT = 1L << 20;
    public static final long SMALL_GRANULE = 512;
    public static final long LARGE_GRANULE = 2L << 20;

    private static final class Block {
        final long address;
        final long size;
        long stream;
        long event;

        Block(long address, long size, long stream) {
            this.address = address;
            this.size = size;
            this.stream = stream;
        }
    }

    private final Driver driver;
    private final TreeSet<Block> cached = new TreeSet<>(
            Comparator.comparingLong((Block b) -> b.size).thenComparingLong(b -> b.address));
    private final Map<Long, Block> live = new HashMap<>();
    private long allocated;
    private long reserved;
    private long peakAllocated;
    private long peakReserved;
    private long driverAllocations;
    private long driverFrees;
    private long cacheHits;
    private boolean closed;

    public CachingAllocator(Driver driver) {
        this.driver = driver;
    }

    /**
     * An allocator over cuMemAlloc in the current context for work queued on {@code stream} only:
     * stream order makes a freed block safe for the next allocation at once, so no event is
     * recorded and a release makes no CUDA call (the GC's cleaner thread may release memory).
     */
    public static CachingAllocator onStream(CudaStream stream) {
        return new CachingAllocator(new OneStream(stream.address()));
    }

    private record OneStream(long stream) implements Driver {
        @Override
        public long malloc(long bytes) {
            return DeviceBuffer.malloc(bytes);
        }

        @Override
        public void free(long address) {
            DeviceBuffer.free(address);
        }

        @Override
        public long recordEvent(long freedOn) {
            if (freedOn != stream) {
                throw new IllegalStateException("allocator for stream 0x" + Long.toHexString(stream)
                        + " got a free on stream 0x" + Long.toHexString(freedOn));
            }
            return 0;
        }

        @Override
        public void synchronize() {
            CudaDriverException.check(cuCtxSynchronize(), "cuCtxSynchronize");
        }
    }

    /** The bucket a request falls in: 512-byte multiples up to 1 MiB, 2 MiB multiples above; at least 512. */
    public static long roundSize(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("allocation size must not be negative, got " + bytes);
        }
        long granule = bytes <= SMALL_LIMIT ? SMALL_GRANULE : LARGE_GRANULE;
        return Math.max(SMALL_GRANULE, Math.ceilDiv(bytes, granule) * granule);
    }

    /** The largest cached block a request of this rounded size may take. */
    static long largestReusable(long rounded) {
        return rounded + rounded / 4;
    }

    /** A buffer of {@code bytes} for work on {@code stream}; close it to return the memory. */
    public DeviceBuffer allocate(long bytes, CudaStream stream) {
        return allocate(bytes, stream.address());
    }

    synchronized DeviceBuffer allocate(long bytes, long stream) {
        if (closed) {
            throw new IllegalStateException("caching allocator is closed");
        }
        long size = roundSize(bytes);
        Block block = reuse(size, stream);
        if (block == null) {
            block = fresh(size, stream, bytes);
        }
        live.put(block.address, block);
        allocated += block.size;
        peakAllocated = Math.max(peakAllocated, allocated);
        Block owned = block;
        return new DeviceBuffer(block.address, bytes, b -> release(owned));
    }

    private Block reuse(long size, long stream) {
        NavigableSet<Block> fits = cached.subSet(new Block(0, size, 0), true,
                new Block(Long.MAX_VALUE, largestReusable(size), 0), true);
        for (Block block : fits) {
            if (block.stream == stream) {
                return take(block, stream);
            }
        }
        for (Block block : fits) {
            if (driver.eventDone(block.event)) {
                return take(block, stream);
            }
        }
        return null;
    }

    private Block take(Block block, long stream) {
        cached.remove(block);
        if (block.event != 0) {
            driver.destroyEvent(block.event);
            block.event = 0;
        }
        block.stream = stream;
        cacheHits++;
        return block;
    }

    private Block fresh(long size, long stream, long requested) {
        long address = driver.malloc(size);
        if (address == 0 && !cached.isEmpty()) {
            releaseCached();
            address = driver.malloc(size);
        }
        if (address == 0) {
            throw new CudaOutOfMemoryException("allocate(" + requested + " bytes)",
                    "out of device memory allocating " + requested + " bytes (bucket " + size + ") on stream 0x"
                            + Long.toHexString(stream) + " after emptying the cache; " + describe(stats()));
        }
        driverAllocations++;
        reserved += size;
        peakReserved = Math.max(peakReserved, reserved);
        return new Block(address, size, stream);
    }

    private synchronized void release(Block block) {
        if (live.remove(block.address) == null) {
            throw new IllegalStateException("block 0x" + Long.toHexString(block.address) + " released twice");
        }
        allocated -= block.size;
        if (closed) {
            freeToDriver(block);
        } else {
            // Marks the free's place on its stream; other streams reuse the block once it has passed.
            block.event = driver.recordEvent(block.stream);
            cached.add(block);
        }
    }

    /** Waits for the device, then gives every cached block back to the driver; live buffers stay. */
    public synchronized void emptyCache() {
        if (!cached.isEmpty()) {
            releaseCached();
        }
    }

    private void releaseCached() {
        driver.synchronize();
        for (Block block : new ArrayList<>(cached)) {
            if (block.event != 0) {
                driver.destroyEvent(block.event);
                block.event = 0;
            }
            freeToDriver(block);
        }
        cached.clear();
    }

    private void freeToDriver(Block block) {
        driver.free(block.address);
        driverFrees++;
        reserved -= block.size;
    }

    public synchronized Stats stats() {
        return new Stats(allocated, reserved, peakAllocated, peakReserved, live.size(), cached.size(),
                driverAllocations, driverFrees, cacheHits);
    }

    /** Restarts the peak figures from the current ones (e.g. per training step). */
    public synchronized void resetPeaks() {
        peakAllocated = allocated;
        peakReserved = reserved;
    }

    static String describe(Stats s) {
        return String.format("allocated %,d B, reserved %,d B (cached %,d B in %d blocks), peak allocated %,d B",
                s.allocatedBytes(), s.reservedBytes(), s.cachedBytes(), s.cachedBlocks(), s.peakAllocatedBytes());
    }

    /** Empties the cache; buffers still live are freed to the driver when they are closed. */
    @Override
    public synchronized void close() {
        emptyCache();
        closed = true;
    }

    /** Live addresses, for tests of the bookkeeping. */
    synchronized List<Long> liveAddresses() {
        return List.copyOf(live.keySet());
    }
}
