package nvlm.kernels.translator;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import nvlm.kernels.DType;

/**
 * IEEE half elements stored as 16-bit patterns; {@code unsigned short*} in CUDA C. Loads widen to
 * float exactly; stores round to nearest, ties to even ({@link DType#floatToF16}), on the CPU
 * and in the translated kernel alike.
 */
public final class F16Buffer implements Buffer {
    private static final VarHandle ELEMENT = ValueLayout.JAVA_SHORT.arrayElementVarHandle();

    private final MemorySegment segment;
    private final long length;

    private F16Buffer(MemorySegment segment) {
        Buffer.requireAligned(segment, 2, "F16Buffer");
        this.segment = segment;
        this.length = segment.byteSize() / 2;
    }

    /** A view over {@code segment} (2-byte aligned, native byte order). */
    public static F16Buffer of(MemorySegment segment) {
        return new F16Buffer(segment);
    }

    /** A view over {@code bits} itself: each short is one IEEE half bit pattern. */
    public static F16Buffer wrapBits(short... bits) {
        return new F16Buffer(MemorySegment.ofArray(bits));
    }

    /** A new heap buffer holding {@code values} rounded to IEEE half. */
    public static F16Buffer fromFloats(float... values) {
        short[] bits = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = DType.floatToF16(values[i]);
        }
        return wrapBits(bits);
    }

    /** {@code length} zero elements allocated in {@code arena}. */
    public static F16Buffer allocate(Arena arena, long length) {
        return new F16Buffer(arena.allocate(ValueLayout.JAVA_SHORT, length));
    }

    public float get(long index) {
        return DType.f16ToFloat((short) ELEMENT.get(segment, 0L, index));
    }

    public void set(long index, float value) {
        ELEMENT.set(segment, 0L, index, DType.floatToF16(value));
    }

    /** The elements widened to float. */
    public float[] toFloatArray() {
        float[] values = new float[Math.toIntExact(length)];
        for (int i = 0; i < values.length; i++) {
            values[i] = get(i);
        }
        return values;
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
        return 2;
    }

    @Override
    public String cType() {
        return "unsigned short*";
    }

    @Override
    public String toString() {
        return "F16Buffer[" + length + "]";
    }
}
