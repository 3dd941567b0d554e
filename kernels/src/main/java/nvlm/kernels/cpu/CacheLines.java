package nvlm.kernels.cpu;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Where the elements of a float[] start relative to a 64-byte cache line, so a kernel can lay its
 * packed panels out from a line boundary.
 *
 * <p>Why it matters: a 512-bit vector load that straddles two cache lines costs two line reads.
 * The Java heap places an array's first element wherever the allocator happened to be (8-byte
 * granularity, plus the array header), so a panel starting at index 0 is line-aligned in one
 * launch out of eight and misaligned in the others; the GEMM micro-kernel measured 15% slower on
 * misaligned B panels, and which case a launch got changed with unrelated allocations. Java has
 * no way to ask for an aligned array, but the address can be read: a critical downcall with heap
 * access passes the array itself to C, and {@code memmove(p, p, 0)} returns its first argument.
 * The answer stays right until a garbage collection moves the array (long-lived workspaces are
 * moved rarely; a stale answer only costs speed, never correctness, because kernels use it as an
 * offset inside the array).
 */
final class CacheLines {
    static final int BYTES = 64;
    /** Extra floats a workspace array needs so that any start offset from {@link #floatsToBoundary} fits. */
    static final int SLACK_FLOATS = BYTES / Float.BYTES;
    private static final MethodHandle MEMMOVE = memmove();

    private CacheLines() {
    }

    /**
     * The first index i in [0, 16) such that {@code &array[i]} is a multiple of 64 bytes; 0 when
     * the address cannot be read (no native access granted, or no C library).
     */
    static int floatsToBoundary(float[] array) {
        if (MEMMOVE == null || array.length == 0) {
            return 0;
        }
        try {
            MemorySegment heap = MemorySegment.ofArray(array);
            long address = ((MemorySegment) MEMMOVE.invokeExact(heap, heap, 0L)).address();
            return (int) ((BYTES - (address & (BYTES - 1))) & (BYTES - 1)) / Float.BYTES;
        } catch (Throwable e) {
            return 0; // a hint only: index 0 is always correct
        }
    }

    private static MethodHandle memmove() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("memmove")
                    .map(symbol -> linker.downcallHandle(symbol,
                            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                                    ValueLayout.JAVA_LONG),
                            Linker.Option.critical(true)))
                    .orElse(null);
        } catch (RuntimeException e) {
            // IllegalCallerException without native access, UnsupportedOperationException on an
            // unsupported platform: kernels still work, with index 0 as the start.
            return null;
        }
    }
}
