package nvlm.kernels.translator;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/** float32 elements; {@code float*} in CUDA C. */
public final class F32Buffer implements Buffer {
    private static final VarHandle ELEMENT = ValueLayout.JAVA_FLOAT.arrayElementVarHandle();
    private static final VarHandle BITS = ValueLayout.JAVA_INT.arrayElementVarHandle();

    private final MemorySegment segment;
    private final long length;

    private F32Buffer(MemorySegment segment) {
        Buffer.requireAligned(segment, 4, "F32Buffer");
        this.segment = segment;
        this.length = segment.byteSize() / 4;
    }

    /** A view over {@code segment} (4-byte aligned, native byte order). */
    public static F32Buffer of(MemorySegment segment) {
        return new F32Buffer(segment);
    }

    /** A view over {@code values} itself (writes go to the array). */
    public static F32Buffer wrap(float... values) {
        return new F32Buffer(MemorySegment.ofArray(values));
    }

    /** {@code length} zero-initialised elements allocated in {@code arena}. */
    public static F32Buffer allocate(Arena arena, long length) {
        return new F32Buffer(arena.allocate(ValueLayout.JAVA_FLOAT, length));
    }

    public float get(long index) {
        return (float) ELEMENT.get(segment, 0L, index);
    }

    public void set(long index, float value) {
        ELEMENT.set(segment, 0L, index, value);
    }

    /**
     * Adds {@code value} to element {@code index} atomically ({@code atomicAdd} in CUDA). The order
     * in which concurrent adds land is not fixed, so float results may differ in the last bits
     * from run to run.
     */
    public void atomicAdd(long index, float value) {
        while (true) {
            int old = (int) BITS.getVolatile(segment, 0L, index);
            int updated = Float.floatToRawIntBits(Float.intBitsToFloat(old) + value);
            if (BITS.compareAndSet(segment, 0L, index, old, updated)) {
                return;
            }
        }
    }

    /** A copy of the elements. */
    public float[] toArray() {
        return segment.toArray(ValueLayout.JAVA_FLOAT);
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
        return "float*";
    }

    @Override
    public String toString() {
        return "F32Buffer[" + length + "]";
    }
}
