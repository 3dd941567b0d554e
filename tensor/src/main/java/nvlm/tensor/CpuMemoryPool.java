package nvlm.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;

/**
 * Caching allocator for CPU tensor memory: blocks are rounded up to size buckets and reused, so a
 * training loop does not pay malloc, page faults and zeroing for every activation of every step.
 * Each block has its own shared arena (accessible from every kernel thread); blocks are freed for
 * real only by {@link #emptyCache()} or when the cache grows past its limit.
 *
 * <p>A request takes a free block of its own bucket, else the smallest free block of at most
 * twice its bucket (best fit): when shapes change from step to step (stage 0's varying sequence
 * lengths) the exact bucket is often empty while a slightly larger one is not, and a fresh
 * block costs a native allocation, its zeroing and its page faults.
 */
public final class CpuMemoryPool {
    /** 64-byte alignment: a cache line, and the widest vector register. */
    private static final long ALIGNMENT = 64;
    private static final long DEFAULT_LIMIT = Long.getLong("nvlm.cpu.poolBytes", 4L << 30);

    record Block(Arena arena, MemorySegment segment) {
    }

    private static final CpuMemoryPool INSTANCE = new CpuMemoryPool(DEFAULT_LIMIT);

    private final long limit;
    /** Free blocks by size; a size's queue is removed when it empties, so every entry has a block. */
    private final TreeMap<Long, ArrayDeque<Block>> free = new TreeMap<>();
    private long cachedBytes;
    private long allocatedBytes;
    private long peakBytes;
    private long freshBlocks;
    private long evictedBlocks;

    CpuMemoryPool(long limit) {
        this.limit = limit;
    }

    public static CpuMemoryPool instance() {
        return INSTANCE;
    }

    /**
     * Bucket of a request: multiples of 64 bytes up to 4 KiB, then four buckets per power of two
     * (at most 25% waste).
     */
    static long bucket(long bytes) {
        if (bytes <= 4096) {
            return Math.max(ALIGNMENT, (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
        }
        long high = Long.highestOneBit(bytes - 1) << 1; // next power of two >= bytes
        long step = high / 8;
        return (bytes + step - 1) / step * step;
    }

    synchronized Block acquire(long bytes) {
        long size = bucket(bytes);
        Map.Entry<Long, ArrayDeque<Block>> fit = free.ceilingEntry(size);
        Block block = null;
        if (fit != null && fit.getKey() <= 2 * size) {
            block = fit.getValue().pollLast();
            if (fit.getValue().isEmpty()) {
                free.remove(fit.getKey());
            }
            size = fit.getKey();
            cachedBytes -= size;
        } else {
            freshBlocks++;
            Arena arena = Arena.ofShared();
            try {
                block = new Block(arena, arena.allocate(size, ALIGNMENT));
            } catch (OutOfMemoryError e) {
                emptyCacheLocked();
                arena = Arena.ofShared();
                block = new Block(arena, arena.allocate(size, ALIGNMENT));
            }
        }
        allocatedBytes += size;
        peakBytes = Math.max(peakBytes, allocatedBytes);
        return block;
    }

    synchronized void release(Block block) {
        long size = block.segment().byteSize();
        allocatedBytes -= size;
        if (cachedBytes + size > limit) {
            evictedBlocks++;
            block.arena().close();
            return;
        }
        free.computeIfAbsent(size, k -> new ArrayDeque<>()).addLast(block);
        cachedBytes += size;
    }

    /** Frees every cached (unused) block. */
    public synchronized void emptyCache() {
        emptyCacheLocked();
    }

    private void emptyCacheLocked() {
        for (ArrayDeque<Block> queue : free.values()) {
            for (Block block : queue) {
                block.arena().close();
            }
        }
        free.clear();
        cachedBytes = 0;
    }

    /** Bytes handed out to live storages (bucket sizes). */
    public synchronized long allocatedBytes() {
        return allocatedBytes;
    }

    /** Bytes held in the cache for reuse. */
    public synchronized long cachedBytes() {
        return cachedBytes;
    }

    /** Blocks allocated from the system so far (requests no free block could serve). */
    public synchronized long freshBlocks() {
        return freshBlocks;
    }

    /** Released blocks freed at once because the cache was at its limit. */
    public synchronized long evictedBlocks() {
        return evictedBlocks;
    }

    /** Highest {@link #allocatedBytes()} seen. */
    public synchronized long peakBytes() {
        return peakBytes;
    }
}
