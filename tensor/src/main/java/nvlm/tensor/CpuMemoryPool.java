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
 *
 * <p>Native memory is bounded. Storages made outside a {@link MemoryScope} go back to the pool
 * only when the GC finds them unreachable, and the GC runs when the <em>heap</em> fills, not
 * when native memory does: a demo with an 8 GB heap reached 12 GB resident. So (1) after every
 * {@code nvlm.cpu.gcEveryBytes} (default 256 MiB) of such storages the pool asks for a GC, which
 * hands their blocks back, and (2) a request that would take the memory in use past the budget
 * ({@code NVLM_CPU_MEMORY} or {@code -Dnvlm.cpu.maxBytes}, default three quarters of the
 * machine's memory) first empties the cache, then asks for a GC and waits for the Cleaner, as
 * {@code ByteBuffer.allocateDirect} does, and fails with an {@link OutOfMemoryError} that says
 * so when the memory is really in use.
 */
public final class CpuMemoryPool {
    /** 64-byte alignment: a cache line, and the widest vector register. */
    private static final long ALIGNMENT = 64;
    private static final long DEFAULT_LIMIT = Long.getLong("nvlm.cpu.poolBytes", 1L << 30);
    private static final long GC_EVERY = Long.getLong("nvlm.cpu.gcEveryBytes", 256L << 20);
    private static final long BUDGET = configuredBudget();

    /** A block of native memory; {@code inPool} is true while it sits in the free lists (guarded by the pool's lock). */
    static final class Block {
        private final Arena arena;
        private final MemorySegment segment;
        private boolean inPool;

        Block(Arena arena, MemorySegment segment) {
            this.arena = arena;
            this.segment = segment;
        }

        Arena arena() {
            return arena;
        }

        MemorySegment segment() {
            return segment;
        }
    }

    private static final CpuMemoryPool INSTANCE = new CpuMemoryPool(DEFAULT_LIMIT, BUDGET);

    private final long limit;
    private final long budget;
    /** Bytes of storages left to the GC since the last collection this pool asked for. */
    private long unscopedSinceGc;
    /** Free blocks by size; a size's queue is removed when it empties, so every entry has a block. */
    private final TreeMap<Long, ArrayDeque<Block>> free = new TreeMap<>();
    private long cachedBytes;
    private long allocatedBytes;
    private long peakBytes;
    private long freshBlocks;
    private long evictedBlocks;

    CpuMemoryPool(long limit) {
        this(limit, Long.MAX_VALUE);
    }

    CpuMemoryPool(long limit, long budget) {
        this.limit = Math.min(limit, budget);
        this.budget = budget;
    }

    /** NVLM_CPU_MEMORY / -Dnvlm.cpu.maxBytes (bytes, or with a k/m/g suffix), else 3/4 of physical memory. */
    private static long configuredBudget() {
        String value = System.getProperty("nvlm.cpu.maxBytes", System.getenv("NVLM_CPU_MEMORY"));
        if (value != null && !value.isBlank()) {
            String t = value.trim().toLowerCase(java.util.Locale.ROOT);
            int shift = switch (t.charAt(t.length() - 1)) {
                case 'k' -> 10;
                case 'm' -> 20;
                case 'g' -> 30;
                default -> 0;
            };
            try {
                long n = Long.parseLong(shift == 0 ? t : t.substring(0, t.length() - 1));
                if (n > 0 && n <= Long.MAX_VALUE >> shift) {
                    return n << shift;
                }
            } catch (NumberFormatException ignored) {
                // the message below
            }
            throw new IllegalArgumentException("NVLM_CPU_MEMORY must be a size such as 2g or 512m, got '" + value + "'");
        }
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize() / 4 * 3;
        }
        return Long.MAX_VALUE;
    }

    /** The most bytes of tensor memory in use at once. */
    public long budget() {
        return budget;
    }

    /**
     * A block of at least {@code bytes}, within the budget: when the memory in use would pass it,
     * the GC is asked to hand back unreachable storages first (outside the lock: the Cleaner
     * thread releases through it), a few times, before giving up.
     */
    Block acquire(long bytes) {
        for (int attempt = 0; ; attempt++) {
            synchronized (this) {
                long size = bucket(bytes);
                if (allocatedBytes + size <= budget) {
                    return take(bytes);
                }
                emptyCacheLocked();
                if (attempt >= 8) {
                    throw new OutOfMemoryError(String.format(java.util.Locale.ROOT,
                            "CPU tensor memory: %.1f MiB in use and %.1f MiB more asked, past the budget of %.1f MiB"
                                    + " (NVLM_CPU_MEMORY)", allocatedBytes / 1048576.0, size / 1048576.0, budget / 1048576.0));
                }
            }
            System.gc();
            try {
                Thread.sleep(1L << Math.min(attempt, 7));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new OutOfMemoryError("interrupted while waiting for CPU tensor memory");
            }
        }
    }

    /**
     * Notes a storage of {@code bytes} whose memory the GC will hand back; after
     * {@code nvlm.cpu.gcEveryBytes} of them a GC is asked for, so that native memory held by
     * garbage stays bounded however large the heap is.
     */
    void leftToGc(long bytes) {
        boolean collect;
        synchronized (this) {
            unscopedSinceGc += bytes;
            collect = unscopedSinceGc >= GC_EVERY;
            if (collect) {
                unscopedSinceGc = 0;
            }
        }
        if (collect) {
            System.gc();
        }
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

    private Block take(long bytes) {
        long size = bucket(bytes);
        Map.Entry<Long, ArrayDeque<Block>> fit = free.ceilingEntry(size);
        Block block = null;
        if (fit != null && fit.getKey() <= 2 * size) {
            block = fit.getValue().pollLast();
            block.inPool = false;
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

    /**
     * Takes a block back. Releasing a block twice would hand the same memory to two storages
     * (silent aliasing), so it is refused loudly; a closed arena (a block already freed) too.
     */
    synchronized void release(Block block) {
        if (block.inPool || !block.arena().scope().isAlive()) {
            throw new IllegalStateException("CPU memory block of " + block.segment().byteSize()
                    + " bytes released twice: a storage was freed by its MemoryScope and again by another path");
        }
        long size = block.segment().byteSize();
        allocatedBytes -= size;
        if (cachedBytes + size > limit) {
            evictedBlocks++;
            block.arena().close();
            return;
        }
        block.inPool = true;
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
