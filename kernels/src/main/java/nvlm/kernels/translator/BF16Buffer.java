package nvlm.kernels.translator;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import nvlm.kernels.DType;

/**
 * bfloat16 elements stored as 16-bit patterns; {@code unsigned short*} in CUDA C. Loads widen to
 * float exactly; stores round to nearest, ties to even ({@link DType#floatToBf16}), on the CPU
 * and in the translated kernel alike.
 */
public final class BF16Buffer implements Buffer {
    private static final VarHandle ELEMENT = ValueLayout.JAVA_SHORT.arrayElementVarHandle();

    private final MemorySegment segment;
    private final long length;

    private BF16Buffer(MemorySegment segment) {
        Buffer.requireAligned(segment, 2, "BF16Buffer");
        this.segment = segment;
        this.length = segment.byteSize() / 2;
    }

    /** A view over {@code segment} (2-byte aligned, native byte order). */
    public static BF16Buffer of(MemorySegment segment) {
        return new BF16Buffer(segment);
    }

    /** A view over {@code bits} itself: each short is one bfloat16 bit pattern. */
    public static BF16Buffer wrapBits(short... bits) {
        return new BF16Buffer(MemorySegment.ofArray(bits));
    }

    /** A new heap buffer holding {@code values} rounded to bfloat16. */
    public static BF16Buffer fromFloats(float... values) {
        short[] bits = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = DType.floatToBf16(values[i]);
        }
        return wrapBits(bits);
    }

    /** {@code length} zero elements allocated in {@code arena}. */
    public static BF16Buffer allocate(Arena arena, long length) {
        return new BF16Buffer(arena.allocate(ValueLayout.JAVA_SHORT, length));
    }

    public float get(long index) {
        return DType.bf16ToFloat((short) ELEMENT.get(segment, 0L, index));
    }

    public void set(long index, float value) {
        ELEMENT.set(segment, 0L, index, DType.floatToBf16(value));
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
        return "BF16Buffer[" + length + "]";
    }
}
