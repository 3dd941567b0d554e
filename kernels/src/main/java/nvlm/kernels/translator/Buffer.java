package nvlm.kernels.translator;

import java.lang.foreign.MemorySegment;
import nvlm.kernels.DType;

/**
 * A typed view over a {@link MemorySegment}: the only reference type a kernel may take besides
 * its {@link KernelContext}. In CUDA C each buffer is a typed device pointer ({@link #cType()});
 * on the CPU the kernel reads and writes the segment, with bounds checks.
 *
 * <p>A GPU runtime may build buffers over device addresses
 * ({@code MemorySegment.ofAddress(dptr).reinterpret(bytes)}) only to pass their addresses to a
 * launch: such a buffer must never be read on the CPU.
 */
public sealed interface Buffer permits F32Buffer, BF16Buffer, F16Buffer, I32Buffer, I64Buffer, I8Buffer {
    /** The memory this buffer views. */
    MemorySegment segment();

    /** Number of elements. */
    long length();

    /** Bytes per element in memory. */
    int elementBytes();

    /** The C type of the device pointer this buffer becomes in a translated kernel. */
    String cType();

    /** The buffer of a dtype over {@code segment} (BOOL is an I8 buffer). */
    static Buffer of(DType dtype, MemorySegment segment) {
        return switch (dtype) {
            case F32 -> F32Buffer.of(segment);
            case BF16 -> BF16Buffer.of(segment);
            case F16 -> F16Buffer.of(segment);
            case I32 -> I32Buffer.of(segment);
            case I64 -> I64Buffer.of(segment);
            case BOOL -> I8Buffer.of(segment);
        };
    }

    /** Checks that {@code segment} can hold elements of {@code bytes} bytes, naming {@code type}. */
    static void requireAligned(MemorySegment segment, int bytes, String type) {
        if (segment.byteSize() % bytes != 0) {
            throw new IllegalArgumentException(type + " needs a segment whose size is a multiple of "
                    + bytes + " bytes, got " + segment.byteSize());
        }
        if (segment.maxByteAlignment() < bytes) {
            throw new IllegalArgumentException(type + " needs a " + bytes + "-byte aligned segment, got one "
                    + "aligned to " + segment.maxByteAlignment() + " byte(s) (" + segment + ")");
        }
    }
}
