package nvlm.kernels.translator;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/** int32 elements (indices, ids, labels); {@code int*} in CUDA C. */
public final class I32Buffer implements Buffer {
    private static final VarHandle ELEMENT = ValueLayout.JAVA_INT.arrayElementVarHandle();

    private final MemorySegment segment;
    private final long length;

    private I32Buffer(MemorySegment segment) {
        Buffer.requireAligned(segment, 4, "I32Buffer");
        this.segment = segment;
        this.length = segment.byteSize() / 4;
    }

    /** A view over {@code segment} (4-byte aligned, native byte order). */
    public static I32Buffer of(MemorySegment segment) {
        return new I32Buffer(segment);
    }

    /** A view over {@code values} itself (writes go to the array). */
    public static I32Buffer wrap(int... values) {
        return new I32Buffer(MemorySegment.ofArray(values));
    }

    /** {@code length} zero elements allocated in {@code arena}. */
    public static I32Buffer allocate(Arena arena, long length) {
        return new I32Buffer(arena.allocate(ValueLayout.JAVA_INT, length));
    }

    public int get(long index) {
        return (int) ELEMENT.get(segment, 0L, index);
    }

    public void set(long index, int value) {
        ELEMENT.set(segment, 0L, index, value);
    }

    /** A copy of the elements. */
    public int[] toArray() {
        return segment.toArray(ValueLayout.JAVA_INT);
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
        return 4;
    }

    @Override
    public String cType() {
        return "int*";
    }

    @Override
    public String toString() {
        return "I32Buffer[" + length + "]";
    }
}
