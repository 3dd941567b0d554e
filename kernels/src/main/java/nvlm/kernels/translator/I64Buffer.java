package nvlm.kernels.translator;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/** int64 elements (indices, ids, labels); {@code long long*} in CUDA C. */
public final class I64Buffer implements Buffer {
    private static final VarHandle ELEMENT = ValueLayout.JAVA_LONG.arrayElementVarHandle();

    private final MemorySegment segment;
    private final long length;

    private I64Buffer(MemorySegment segment) {
        Buffer.requireAligned(segment, 8, "I64Buffer");
        this.segment = segment;
        this.length = segment.byteSize() / 8;
    }

    /** A view over {@code segment} (8-byte aligned, native byte order). */
    public static I64Buffer of(MemorySegment segment) {
        return new I64Buffer(segment);
    }

    /** A view over {@code values} itself (writes go to the array). */
    public static I64Buffer wrap(long... values) {
        return new I64Buffer(MemorySegment.ofArray(values));
    }

    /** {@code length} zero elements allocated in {@code arena}. */
    public static I64Buffer allocate(Arena arena, long length) {
        return new I64Buffer(arena.allocate(ValueLayout.JAVA_LONG, length));
    }

    public long get(long index) {
        return (long) ELEMENT.get(segment, 0L, index);
    }

    public void set(long index, long value) {
        ELEMENT.set(segment, 0L, index, value);
    }

    /** A copy of the elements. */
    public long[] toArray() {
        return segment.toArray(ValueLayout.JAVA_LONG);
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
        return 8;
    }

    @Override
    public String cType() {
        return "long long*";
    }

    @Override
    public String toString() {
        return "I64Buffer[" + length + "]";
    }
}
