package nvlm.kernels.translator;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/** int8 elements (byte masks: nonzero means true); {@code signed char*} in CUDA C. */
public final class I8Buffer implements Buffer {
    private static final VarHandle ELEMENT = ValueLayout.JAVA_BYTE.arrayElementVarHandle();

    private final MemorySegment segment;
    private final long length;

    private I8Buffer(MemorySegment segment) {
        Buffer.requireAligned(segment, 1, "I8Buffer");
        this.segment = segment;
        this.length = segment.byteSize() / 1;
    }

    /** A view over {@code segment} (1-byte aligned, native byte order). */
    public static I8Buffer of(MemorySegment segment) {
        return new I8Buffer(segment);
    }

    /** A view over {@code values} itself (writes go to the array). */
    public static I8Buffer wrap(byte... values) {
        return new I8Buffer(MemorySegment.ofArray(values));
    }

    /** {@code length} zero elements allocated in {@code arena}. */
    public static I8Buffer allocate(Arena arena, long length) {
        return new I8Buffer(arena.allocate(ValueLayout.JAVA_BYTE, length));
    }

    public byte get(long index) {
        return (byte) ELEMENT.get(segment, 0L, index);
    }

    public void set(long index, byte value) {
        ELEMENT.set(segment, 0L, index, value);
    }

    /** A copy of the elements. */
    public byte[] toArray() {
        return segment.toArray(ValueLayout.JAVA_BYTE);
    }

    @Override
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public int elementBytes() {
        return 1;
    }

    @Override
    public String cType() {
        return "signed char*";
    }

    @Override
    public String toString() {
        return "I8Buffer[" + length + "]";
    }
}
