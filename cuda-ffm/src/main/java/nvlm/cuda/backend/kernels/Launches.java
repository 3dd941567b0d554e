package nvlm.cuda.backend.kernels;

import java.util.Arrays;
import nvlm.kernels.hat.Buffer;
import nvlm.kernels.hat.LaunchConfig;

/** Launch grids and argument checks shared by the backend's kernels (pure arithmetic). */
public final class Launches {
    private Launches() {
    }

    /** Threads per block of the grid-stride kernels. */
    public static final int THREADS = 256;
    /** Most blocks a grid-stride kernel uses: 4096 x 256 threads fill an H100 (132 SMs) many times over. */
    public static final int MAX_BLOCKS = 4096;

    /** A grid-stride launch over n elements: one thread per element up to {@link #MAX_BLOCKS} blocks. */
    public static LaunchConfig elementwise(long n) {
        long blocks = Math.max(1, Math.min(MAX_BLOCKS, (n + THREADS - 1) / THREADS));
        return LaunchConfig.of((int) blocks, THREADS);
    }

    /** One block of {@link #THREADS} per row, grid-striding past 2^31 - 1 rows. */
    public static LaunchConfig perRow(long rows) {
        return LaunchConfig.of((int) Math.max(1, Math.min(Integer.MAX_VALUE, rows)), THREADS);
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Copies {@code values} into {@code args} right-aligned in {@code TypedCopy.MAX_RANK} slots, padding with {@code fill}. */
    static int padded(Object[] args, int at, long[] values, long fill) {
        int pad = TypedCopy.MAX_RANK - values.length;
        for (int i = 0; i < TypedCopy.MAX_RANK; i++) {
            args[at + i] = i < pad ? fill : values[i - pad];
        }
        return at + TypedCopy.MAX_RANK;
    }

    static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    static void requireLength(String kernel, String argument, Buffer buffer, long needed) {
        if (!TypedBuffers.isPlaceholder(buffer) && buffer.length() < needed) {
            throw new IllegalArgumentException(kernel + ": " + argument + " has " + buffer.length()
                    + " elements, needs at least " + needed);
        }
    }

    /** Checks that a strided view of {@code shape} fits {@code buffer} (non-negative strides, extents at least 1). */
    static void requireSpan(String kernel, String argument, Buffer buffer, long[] shape, long[] strides) {
        long last = 0;
        for (int i = 0; i < shape.length; i++) {
            require(shape[i] >= 1, kernel + ": shape " + Arrays.toString(shape) + " has an empty dimension");
            require(strides[i] >= 0, kernel + ": " + argument + " strides " + Arrays.toString(strides)
                    + " are negative");
            last += (shape[i] - 1) * strides[i];
        }
        requireLength(kernel, argument, buffer, last + 1);
    }
}
