package nvlm.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Kernel arguments, in order, marshalled the way cuLaunchKernel takes them: an array of N
 * pointers, each to memory holding one argument (REFERENCE.md section 2). Every argument gets its
 * own 8-byte slot, so each is naturally aligned whatever its size.
 *
 * <p>The driver reads sizes from the kernel image, not from here, so each Java value must have
 * the C parameter's width: {@code long} or a {@link DeviceBuffer} for pointers and 64-bit
 * integers, {@code int} for int/unsigned, {@code float} for float, and so on.
 */
public final class KernelArgs {
    /** Bytes per argument slot: the widest scalar a kernel parameter takes here (pointer, int64, double). */
    public static final long SLOT_BYTES = 8;

    private record Arg(ValueLayout layout, Object value) {
    }

    private final List<Arg> args = new ArrayList<>();

    public static KernelArgs of(Object... values) {
        var args = new KernelArgs();
        for (int i = 0; i < values.length; i++) {
            switch (values[i]) {
                case DeviceBuffer buffer -> args.pointer(buffer);
                case Long v -> args.i64(v);
                case Integer v -> args.i32(v);
                case Float v -> args.f32(v);
                case Double v -> args.f64(v);
                case Short v -> args.i16(v);
                case Byte v -> args.i8(v);
                case Boolean v -> args.i8((byte) (v ? 1 : 0));
                case null -> throw new IllegalArgumentException("kernel argument " + i + " is null");
                default -> throw new IllegalArgumentException("kernel argument " + i + " has unsupported type "
                        + values[i].getClass().getName() + " (use long, int, float, double, short, byte,"
                        + " boolean or DeviceBuffer)");
            }
        }
        return args;
    }

    public KernelArgs pointer(DeviceBuffer buffer) {
        return i64(buffer.address());
    }

    /** A device pointer given as its address. */
    public KernelArgs pointer(long address) {
        return i64(address);
    }

    public KernelArgs i64(long value) {
        args.add(new Arg(JAVA_LONG, value));
        return this;
    }

    public KernelArgs i32(int value) {
        args.add(new Arg(JAVA_INT, value));
        return this;
    }

    public KernelArgs f32(float value) {
        args.add(new Arg(JAVA_FLOAT, value));
        return this;
    }

    public KernelArgs f64(double value) {
        args.add(new Arg(JAVA_DOUBLE, value));
        return this;
    }

    public KernelArgs i16(short value) {
        args.add(new Arg(JAVA_SHORT, value));
        return this;
    }

    public KernelArgs i8(byte value) {
        args.add(new Arg(JAVA_BYTE, value));
        return this;
    }

    public int size() {
        return args.size();
    }

    /**
     * Writes the values into consecutive slots and returns the {@code void*[]} of slot addresses
     * (the kernelParams argument); both live as long as {@code allocator}'s memory.
     */
    public MemorySegment pack(SegmentAllocator allocator) {
        MemorySegment slots = allocator.allocate(SLOT_BYTES * Math.max(1, args.size()), SLOT_BYTES);
        MemorySegment pointers = allocator.allocate(ADDRESS, Math.max(1, args.size()));
        for (int i = 0; i < args.size(); i++) {
            Arg arg = args.get(i);
            long offset = SLOT_BYTES * i;
            switch (arg.value()) {
                case Long v -> slots.set(JAVA_LONG, offset, v);
                case Integer v -> slots.set(JAVA_INT, offset, v);
                case Float v -> slots.set(JAVA_FLOAT, offset, v);
                case Double v -> slots.set(JAVA_DOUBLE, offset, v);
                case Short v -> slots.set(JAVA_SHORT, offset, v);
                case Byte v -> slots.set(JAVA_BYTE, offset, v);
                default -> throw new AssertionError(arg);
            }
            pointers.setAtIndex(ADDRESS, i, slots.asSlice(offset, SLOT_BYTES));
        }
        return pointers;
    }

    @Override
    public String toString() {
        return args.stream().map(a -> a.layout() + "=" + a.value()).toList().toString();
    }
}
