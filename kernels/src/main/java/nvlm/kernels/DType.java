package nvlm.kernels;

/**
 * Element types of tensor storage. Compute is f32 (f32 accumulation everywhere); BF16 and F16
 * are storage formats widened on the fly, I32 and I64 hold indices, ids and labels, BOOL masks.
 * The names are the safetensors dtype names.
 */
public enum DType {
    F32(4), BF16(2), F16(2), I32(4), I64(8),
    /** One byte per element, 0 or 1: masks. */
    BOOL(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return this == F32 || this == BF16 || this == F16;
    }

    /** The safetensors name of a dtype, or null when the project does not support it. */
    public static DType fromSafetensorsName(String name) {
        return switch (name) {
            case "F32" -> F32;
            case "BF16" -> BF16;
            case "F16" -> F16;
            case "I32" -> I32;
            case "I64" -> I64;
            case "BOOL" -> BOOL;
            default -> null;
        };
    }

    /** Widens bfloat16 bits to float (exact). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** Rounds a float to the nearest bfloat16, ties to even; NaN stays a quiet NaN. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** Widens IEEE half-precision bits to float (exact). */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** Rounds a float to the nearest IEEE half, ties to even. */
    public static short floatToF16(float value) {
        return Float.floatToFloat16(value);
    }
}
