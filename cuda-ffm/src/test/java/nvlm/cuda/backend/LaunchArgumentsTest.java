package nvlm.cuda.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import nvlm.kernels.DType;
import nvlm.kernels.gpu.Placeholders;
import nvlm.kernels.gpu.StridedCopy;
import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.KernelLaunch;
import nvlm.kernels.translator.LaunchConfig;
import org.junit.jupiter.api.Test;

/** How a launch's Java arguments land in cuLaunchKernel's argument slots. */
class LaunchArgumentsTest {

    @Test
    void everyArgumentGetsItsOwnSlotInTheKernelsWidth() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = arena.allocate(64, 256);
            F32Buffer buffer = F32Buffer.of(device.asSlice(16));
            // The converting copy takes every kind of argument the backend passes: codes, buffers,
            // placeholders and long strides.
            KernelLaunch launch = StridedCopy.convert(DType.F32, buffer, new long[] {1}, DType.I64,
                    nvlm.kernels.translator.I64Buffer.of(device.asSlice(0, 16)), new long[] {1}, new long[] {2});
            MemorySegment slots = arena.allocate(8 * 64, 8);
            slots.fill((byte) 0x55);
            CudaAccelerator.packArguments(launch, slots);
            List<Object> args = launch.arguments();
            assertEquals(0, slots.get(ValueLayout.JAVA_INT, 0), "the dtype code of F32");
            assertEquals(device.address() + 16, slots.get(ValueLayout.JAVA_LONG, 8), "the real source buffer");
            for (int i = 2; i <= 6; i++) {
                assertEquals(0L, slots.get(ValueLayout.JAVA_LONG, 8L * i), "placeholder " + i + " is a null pointer");
            }
            for (int i = 0; i < args.size(); i++) {
                if (args.get(i) instanceof Long v) {
                    assertEquals(v.longValue(), slots.get(ValueLayout.JAVA_LONG, 8L * i), "long argument " + i);
                }
            }
        }
    }

    @Test
    void scalarsOfEveryKindArePackedAsTheKernelReadsThem() {
        GpuKernel kernel = GpuKernel.of(StridedCopy.class, "fillKernel");
        KernelLaunch launch = new KernelLaunch(kernel, LaunchConfig.of(1, 32),
                List.of(true, (byte) -2, (short) 300, 'A', 7, 1.5f, -2.25, 1L << 40, Placeholders.BF16));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment slots = arena.allocate(8 * 16, 8);
            CudaAccelerator.packArguments(launch, slots);
            assertEquals(1, slots.get(ValueLayout.JAVA_INT, 0));
            assertEquals(-2, slots.get(ValueLayout.JAVA_INT, 8));
            assertEquals(300, slots.get(ValueLayout.JAVA_INT, 16));
            assertEquals('A', slots.get(ValueLayout.JAVA_INT, 24));
            assertEquals(7, slots.get(ValueLayout.JAVA_INT, 32));
            assertEquals(1.5f, slots.get(ValueLayout.JAVA_FLOAT, 40));
            assertEquals(-2.25, slots.get(ValueLayout.JAVA_DOUBLE, 48));
            assertEquals(1L << 40, slots.get(ValueLayout.JAVA_LONG, 56));
            assertEquals(0L, slots.get(ValueLayout.JAVA_LONG, 64));
            MemorySegment small = arena.allocate(8 * 4, 8);
            assertThrows(IllegalArgumentException.class, () -> CudaAccelerator.packArguments(launch, small));
        }
    }
}
