package nvlm.cuda.backend.kernels;

import java.lang.foreign.MemorySegment;
import nvlm.kernels.DType;
import nvlm.kernels.hat.BF16Buffer;
import nvlm.kernels.hat.Buffer;
import nvlm.kernels.hat.F16Buffer;
import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.I32Buffer;
import nvlm.kernels.hat.I64Buffer;
import nvlm.kernels.hat.I8Buffer;

/**
 * Typed kernel buffers over a segment of any dtype, and the placeholders that stand for the
 * buffers a run-time-typed kernel does not read. Placeholders live on the Java heap: a launcher
 * on the GPU passes a null pointer for them (no heap segment is device memory).
 */
public final class TypedBuffers {
    private TypedBuffers() {
    }

    private static final F32Buffer F32 = F32Buffer.wrap(new float[1]);
    private static final BF16Buffer BF16 = BF16Buffer.wrapBits(new short[1]);
    private static final F16Buffer F16 = F16Buffer.wrapBits(new short[1]);
    private static final I32Buffer I32 = I32Buffer.wrap(new int[1]);
    private static final I64Buffer I64 = I64Buffer.wrap(new long[1]);
    private static final I8Buffer I8 = I8Buffer.wrap(new byte[1]);

    /** The placeholder of a buffer class (never read by the kernel it is passed to). */
    public static Buffer placeholder(DType dtype) {
        return switch (dtype) {
            case F32 -> F32;
            case BF16 -> BF16;
            case F16 -> F16;
            case I32 -> I32;
            case I64 -> I64;
            case BOOL -> I8;
        };
    }

    /** Whether a buffer is a stand-in that holds no tensor data (its address is passed as null). */
    public static boolean isPlaceholder(Buffer buffer) {
        return !buffer.segment().isNative();
    }

    /** The kernel buffer of a dtype over {@code segment} (BOOL is an I8 buffer). */
    public static Buffer of(DType dtype, MemorySegment segment) {
        return switch (dtype) {
            case F32 -> F32Buffer.of(segment);
            case BF16 -> BF16Buffer.of(segment);
            case F16 -> F16Buffer.of(segment);
            case I32 -> I32Buffer.of(segment);
            case I64 -> I64Buffer.of(segment);
            case BOOL -> I8Buffer.of(segment);
        };
    }

    /**
     * Writes the run-time type code and the six typed buffer slots (the real one at its dtype's
     * place, placeholders elsewhere) into {@code args} from {@code at}; returns the next index.
     */
    static int put(Object[] args, int at, DType dtype, Buffer buffer) {
        args[at++] = TypedCopy.code(dtype);
        DType[] order = {DType.F32, DType.BF16, DType.F16, DType.I32, DType.I64, DType.BOOL};
        for (DType slot : order) {
            args[at++] = slot == dtype ? buffer : placeholder(slot);
        }
        return at;
    }
}
