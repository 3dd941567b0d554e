package nvlm.kernels.gpu;

import nvlm.kernels.DType;
import nvlm.kernels.translator.BF16Buffer;
import nvlm.kernels.translator.Buffer;
import nvlm.kernels.translator.F16Buffer;
import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.I32Buffer;
import nvlm.kernels.translator.I64Buffer;
import nvlm.kernels.translator.I8Buffer;

/**
 * Stand-ins the launchers pass for a buffer the kernel is told (by a flag, a mask mode or a dtype
 * code) not to read: a kernel has no null. They live on the Java heap; a GPU runtime passes a null
 * device pointer for them.
 */
public final class Placeholders {
    private Placeholders() {
    }

    public static final F32Buffer F32 = F32Buffer.wrap(new float[1]);
    public static final BF16Buffer BF16 = BF16Buffer.wrapBits(new short[1]);
    public static final F16Buffer F16 = F16Buffer.wrapBits(new short[1]);
    public static final I32Buffer I32 = I32Buffer.wrap(new int[1]);
    public static final I64Buffer I64 = I64Buffer.wrap(new long[1]);
    public static final I8Buffer I8 = I8Buffer.wrap(new byte[1]);

    /** The placeholder of a dtype's buffer class (BOOL is an I8 buffer). */
    public static Buffer of(DType dtype) {
        return switch (dtype) {
            case F32 -> F32;
            case BF16 -> BF16;
            case F16 -> F16;
            case I32 -> I32;
            case I64 -> I64;
            case BOOL -> I8;
        };
    }

    /** Whether {@code buffer} is one of the placeholders. */
    public static boolean is(Buffer buffer) {
        return buffer == F32 || buffer == BF16 || buffer == F16 || buffer == I32 || buffer == I64 || buffer == I8;
    }
}
