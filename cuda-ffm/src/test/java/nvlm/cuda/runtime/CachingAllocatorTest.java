package nvlm.cuda.runtime;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

/** The allocator's policy and bookkeeping over an in-memory driver with a capacity and controllable events. */
class CachingAllocatorTest {

    /** A device with {@code capacity} bytes; events complete only when the test says so. */
    static final class FakeDriver implements CachingAllocator.Driver {
        final long capacity;
        final Map<Long, Long> live = new HashMap<>();
        final Map<Long, Long> eventStream = new HashMap<>();
        final Set<Long> doneEvents = new HashSet<>();
        long nextAddress = 1L << 32;
        long nextEvent = 1;
        int mallocs;
        int frees;
        int synchronizes;

        FakeDriver(long capacity) {
            this.capacity = capacity;
        }

        long used() {
            return live.values().stream().mapToLong(Long::longValue).sum();
        }

        @Override
        public long malloc(long bytes) {
            if (used() + bytes > capacity) {
                return 0;
            }
            long address = nextAddress;
            nextAddress += bytes + 4096;
            live.put(address, bytes);
            mallocs++;
            return address;
        }

        @Override
        public void free(long address) {
            assertTrue(live.remove(address) != null, "free of unknown address 0x" + Long.toHexString(address));
            frees++;
        }

        @Override
        public long recordEvent(long stream) {
            long event = nextEvent++;
            eventStream.put(event, stream);
            return event;
        }

        @Override
        public boolean eventDone(long event) {
            assertTrue(eventStream.containsKey(event), "query of destroyed event " + event);
            return doneEvents.contains(event);
        }

        @Override
        public void destroyEvent(long event) {
            assertTrue(eventStream.remove(event) != null, "event " + event + " destroyed twice");
        }

        void completeStream(long stream) {
            eventStream.forEach((event, s) -> {
                if (s == stream) {
                    doneEvents.add(event);
                }
            });
        }

        @Override
        public void synchronize() {
            synchronizes++;
            doneEvents.addAll(eventStream.keySet());
        }
    }

    static final long S1 = 0x1000;
    static final long S2 = 0x2000;

    @Test
    void sizesRoundToHalfKilobyteBelowOneMebibyteAndTwoMebibytesAbove() {
        assertEquals(512, CachingAllocator.roundSize(0));
        assertEquals(512, CachingAllocator.roundSize(1));
        assertEquals(1024, CachingAllocator.roundSize(513));
        assertEquals(1L << 20, CachingAllocator.roundSize(1L << 20));
        assertEquals(2L << 20, CachingAllocator.roundSize((1L << 20) + 1));
        assertEquals(6L << 20, CachingAllocator.roundSize((4L << 20) + 1));
        qt().forAll(longs().between(0, 1L << 40)).checkAssert(bytes -> {
            long rounded = CachingAllocator.roundSize(bytes);
            long granule = bytes <= CachingAllocator.SMALL_LIMIT ? 512 : 2L << 20;
            assertEquals(Math.max(512, Math.ceilDiv(bytes, granule) * granule), rounded, bytes + " -> " + rounded);
        });
    }

    @Test
    void aFreedBlockIsReusedAtOnceOnItsOwnStream() {
        var driver = new FakeDriver(1L << 30);
        var allocator = new CachingAllocator(driver);
        DeviceBuffer first = allocator.allocate(3000, S1);
        long address = first.address();
        first.close();
        DeviceBuffer second = allocator.allocate(2900, S1);
        assertEquals(address, second.address());
        assertEquals(1, driver.mallocs);
        assertEquals(1, allocator.stats().cacheHits());
    }

    @Test
    void anotherStreamWaitsForTheFreeingStreamsEvent() {
        var driver = new FakeDriver(1L << 30);
        var allocator = new CachingAllocator(driver);
        DeviceBuffer first = allocator.allocate(5 << 20, S1);
        long address = first.address();
        first.close();
        DeviceBuffer onOtherStream = allocator.allocate(5 << 20, S2);
        assertNotEquals(address, onOtherStream.address(), "reused before the freeing stream passed the free");
        onOtherStream.close();
        driver.completeStream(S1);
        DeviceBuffer later = allocator.allocate(5 << 20, 0x3000);
        assertEquals(address, later.address());
        assertEquals(2, driver.mallocs);
    }

    @Test
    void smallRequestsDoNotTakeMuchLargerCachedBlocks() {
        var driver = new FakeDriver(1L << 30);
        var allocator = new CachingAllocator(driver);
        allocator.allocate(64L << 20, S1).close();
        DeviceBuffer small = allocator.allocate(1000, S1);
        assertEquals(2, driver.mallocs);
        assertEquals(1024, allocator.stats().allocatedBytes());
        small.close();
        allocator.allocate(60L << 20, S1).close();
        assertEquals(2, driver.mallocs, "a 64 MiB block serves a 60 MiB request (within a quarter)");
    }

    @Test
    void statisticsTrackAllocatedReservedAndPeaks() {
        var driver = new FakeDriver(1L << 30);
        var allocator = new CachingAllocator(driver);
        DeviceBuffer a = allocator.allocate(1000, S1);
        DeviceBuffer b = allocator.allocate(3L << 20, S1);
        var stats = allocator.stats();
        assertEquals(1024 + (4L << 20), stats.allocatedBytes());
        assertEquals(stats.allocatedBytes(), stats.reservedBytes());
        b.close();
        stats = allocator.stats();
        assertEquals(1024, stats.allocatedBytes());
        assertEquals(1024 + (4L << 20), stats.reservedBytes());
        assertEquals(4L << 20, stats.cachedBytes());
        assertEquals(1024 + (4L << 20), stats.peakAllocatedBytes());
        allocator.resetPeaks();
        assertEquals(1024, allocator.stats().peakAllocatedBytes());
        a.close();
        allocator.emptyCache();
        assertEquals(0, allocator.stats().reservedBytes());
        assertEquals(0, driver.used());
        assertEquals(1, driver.synchronizes, "emptyCache waits for the device before freeing");
        assertTrue(driver.eventStream.isEmpty(), "events of freed blocks are destroyed");
    }

    @Test
    void outOfMemoryEmptiesTheCacheAndRetriesOnceThenReportsTheState() {
        var driver = new FakeDriver(10L << 20);
        var allocator = new CachingAllocator(driver);
        allocator.allocate(6L << 20, S1).close();
        DeviceBuffer big = allocator.allocate(8L << 20, S1);
        assertEquals(8L << 20, allocator.stats().reservedBytes(), "the cached 6 MiB block was released for the retry");
        var error = assertThrows(CudaOutOfMemoryException.class, () -> allocator.allocate(4L << 20, S2));
        assertTrue(error.getMessage().contains("4194304 bytes"), error.getMessage());
        assertTrue(error.getMessage().contains("allocated 8,388,608 B"), error.getMessage());
        big.close();
    }

    @Test
    void buffersClosedAfterTheAllocatorGoStraightBackToTheDriver() {
        var driver = new FakeDriver(1L << 30);
        var allocator = new CachingAllocator(driver);
        DeviceBuffer kept = allocator.allocate(4096, S1);
        allocator.allocate(4096, S1).close();
        allocator.close();
        assertEquals(4096, driver.used());
        kept.close();
        assertEquals(0, driver.used());
        assertThrows(IllegalStateException.class, () -> allocator.allocate(1, S1));
    }

    @Test
    void randomWorkloadsKeepTheBookkeepingExact() {
        // Each op: size (bytes, spread over small and large buckets), stream (1 of 3), and whether to
        // free a random live buffer first or complete a stream's events.
        qt().withExamples(60)
                .forAll(lists().of(integers().between(0, Integer.MAX_VALUE)).ofSizeBetween(1, 80))
                .checkAssert(ops -> {
                    var driver = new FakeDriver(256L << 20);
                    var allocator = new CachingAllocator(driver);
                    var liveBuffers = new ArrayList<DeviceBuffer>();
                    for (int op : ops) {
                        long stream = 0x100L * (1 + op % 3);
                        switch ((op >>> 2) % 4) {
                            case 0 -> {
                                if (!liveBuffers.isEmpty()) {
                                    liveBuffers.remove((op >>> 4) % liveBuffers.size()).close();
                                }
                            }
                            case 1 -> driver.completeStream(stream);
                            default -> {
                                long bytes = (op >>> 5) % 2 == 0 ? (op >>> 6) % 100_000 : (op >>> 6) % (12L << 20);
                                try {
                                    liveBuffers.add(allocator.allocate(bytes, stream));
                                } catch (CudaOutOfMemoryException e) {
                                    assertTrue(driver.used() + CachingAllocator.roundSize(bytes) > driver.capacity);
                                }
                            }
                        }
                        checkInvariants(driver, allocator, liveBuffers);
                    }
                    liveBuffers.forEach(DeviceBuffer::close);
                    allocator.close();
                    assertEquals(0, driver.used(), "everything returned to the driver");
                    assertTrue(driver.eventStream.isEmpty(), "no event leaked");
                });
    }

    private static void checkInvariants(FakeDriver driver, CachingAllocator allocator, List<DeviceBuffer> live) {
        var stats = allocator.stats();
        // A buffer may hold a cached block up to a quarter larger than its bucket: count the blocks.
        long allocated = live.stream().mapToLong(b -> driver.live.get(b.address())).sum();
        assertEquals(allocated, stats.allocatedBytes(), "allocated = sum of the live buffers' blocks");
        for (DeviceBuffer b : live) {
            long bucket = CachingAllocator.roundSize(b.byteSize());
            long block = driver.live.get(b.address());
            assertTrue(block >= bucket && block <= bucket + bucket / 4, "block " + block + " for bucket " + bucket);
        }
        assertEquals(driver.used(), stats.reservedBytes(), "reserved = what the driver handed out");
        assertTrue(stats.peakAllocatedBytes() >= stats.allocatedBytes());
        assertEquals(live.size(), stats.liveBuffers());
        // Live buffers never overlap: each owns a distinct driver block of at least its size.
        var addresses = new HashSet<Long>();
        for (DeviceBuffer b : live) {
            assertTrue(addresses.add(b.address()), "two live buffers share 0x" + Long.toHexString(b.address()));
            assertTrue(driver.live.get(b.address()) >= b.byteSize(), "block smaller than its buffer");
        }
    }
}
