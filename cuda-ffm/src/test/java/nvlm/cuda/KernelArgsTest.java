package nvlm.cuda;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/** The kernelParams array cuLaunchKernel reads: pointer i points at argument i's own slot. */
class KernelArgsTest {

    @Test
    void eachArgumentSitsInItsOwnEightByteSlotPointedToInOrder() {
        qt().withExamples(200).forAll(lists().of(integers().between(0, 1_000_000)).ofSizeBetween(0, 12))
                .checkAssert(seeds -> {
                    Object[] values = seeds.stream().map(KernelArgsTest::valueFor).toArray();
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment pointers = KernelArgs.of(values).pack(arena);
                        long first = values.length == 0 ? 0 : pointers.getAtIndex(ADDRESS, 0).address();
                        for (int i = 0; i < values.length; i++) {
                            MemorySegment slot = pointers.getAtIndex(ADDRESS, i).reinterpret(KernelArgs.SLOT_BYTES);
                            assertEquals(first + KernelArgs.SLOT_BYTES * i, slot.address(), "slot " + i);
                            assertEquals(0, slot.address() % KernelArgs.SLOT_BYTES, "slot " + i + " alignment");
                            assertEquals(values[i], read(slot, values[i]), "value of argument " + i);
                        }
                    }
                });
    }

    private static Object valueFor(int seed) {
        return switch (seed % 6) {
            case 0 -> (long) seed * 0x1_0000_0001L;
            case 1 -> seed - 500_000;
            case 2 -> seed / 7.0f;
            case 3 -> seed / 3.0;
            case 4 -> (short) seed;
            default -> (byte) seed;
        };
    }

    private static Object read(MemorySegment slot, Object like) {
        return switch (like) {
            case Long l -> slot.get(JAVA_LONG, 0);
            case Integer i -> slot.get(JAVA_INT, 0);
            case Float f -> slot.get(JAVA_FLOAT, 0);
            case Double d -> slot.get(JAVA_DOUBLE, 0);
            case Short s -> slot.get(JAVA_SHORT, 0);
            case Byte b -> slot.get(JAVA_BYTE, 0);
            default -> throw new AssertionError(like);
        };
    }

    @Test
    void deviceBuffersPassTheirAddressAsAnEightBytePointer() {
        try (Arena arena = Arena.ofConfined()) {
            DeviceBuffer buffer = DeviceBuffer.wrap(0x7f00_1234_5600L, 4096);
            MemorySegment pointers = KernelArgs.of(buffer, 42, true).pack(arena);
            assertEquals(0x7f00_1234_5600L, pointers.getAtIndex(ADDRESS, 0).reinterpret(8).get(JAVA_LONG, 0));
            assertEquals(42, pointers.getAtIndex(ADDRESS, 1).reinterpret(8).get(JAVA_INT, 0));
            assertEquals(1, pointers.getAtIndex(ADDRESS, 2).reinterpret(8).get(JAVA_BYTE, 0));
        }
    }

    @Test
    void explicitBuildersMatchTheBoxedMapping() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment built = new KernelArgs().pointer(0xabcdefL).f32(1.5f).i32(-3).pack(arena);
            MemorySegment boxed = KernelArgs.of(0xabcdefL, 1.5f, -3).pack(arena);
            for (int i = 0; i < 3; i++) {
                assertEquals(boxed.getAtIndex(ADDRESS, i).reinterpret(8).get(JAVA_LONG, 0),
                        built.getAtIndex(ADDRESS, i).reinterpret(8).get(JAVA_LONG, 0), "slot " + i);
            }
        }
    }

    @Test
    void unsupportedArgumentTypesAreRejectedByPosition() {
        var error = assertThrows(IllegalArgumentException.class, () -> KernelArgs.of(1, "text"));
        assertTrue(error.getMessage().contains("kernel argument 1"), error.getMessage());
        assertTrue(error.getMessage().contains("java.lang.String"), error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KernelArgs.of(List.of(1).toArray()[0], null));
    }

    @Test
    void closedBuffersCannotBePassed() {
        DeviceBuffer buffer = DeviceBuffer.wrap(0x1000, 64);
        buffer.close();
        var error = assertThrows(IllegalStateException.class, () -> KernelArgs.of(buffer));
        assertTrue(error.getMessage().contains("closed"), error.getMessage());
    }

    @Test
    void gridCoveringRoundsUp() {
        assertEquals(Dim3.of(4), Dim3.covering(1000, 256));
        assertEquals(Dim3.of(1), Dim3.covering(1, 256));
        assertEquals(Dim3.of(1), Dim3.covering(0, 256));
        assertThrows(IllegalArgumentException.class, () -> Dim3.of(0));
    }
}
