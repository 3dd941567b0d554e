package nvlm.kernels.gpu;

import java.util.Arrays;
import nvlm.kernels.translator.Buffer;
import nvlm.kernels.translator.LaunchConfig;

/** Launch grids and argument checks shared by the kernels of this package (pure arithmetic). */
public final class Launches {
    private Launches() {
    }

    /** Threads per block of the grid-stride kernels and of the row kernels (a power of two; CUDA allows 1024). */
    public static final int THREADS = 256;
    /** Most blocks a grid-stride kernel uses: 4096 x 256 threads fill an H100 (132 SMs) many times over. */
    public static final int MAX_BLOCKS = 4096;
    /** The largest rank of the strided kernels; leading size-1 dimensions pad lower ranks. */
    public static final int MAX_RANK = 6;

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

    /** Copies {@code values} into {@code args} right-aligned in {@link #MAX_RANK} slots, padding with {@code fill}. */
    static int padded(Object[] args, int at, long[] values, long fill) {
        int pad = MAX_RANK - values.length;
        for (int i = 0; i < MAX_RANK; i++) {
            args[at + i] = i < pad ? fill : values[i - pad];
        }
        return at + MAX_RANK;
    }

    static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Checks that {@code buffer} holds at least {@code needed} elements ({@link Placeholders} are never read). */
    static void requireLength(String kernel, String argument, Buffer buffer, long needed) {
        if (!Placeholders.is(buffer) && buffer.length() < needed) {
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

    /** Checks that shape and every strides array have the same rank, 1 to {@code maxRank}. */
    static void requireRank(String kernel, int maxRank, long[] shape, long[]... strides) {
        boolean ok = shape.length >= 1 && shape.length <= maxRank;
        for (long[] s : strides) {
            ok &= s.length == shape.length;
        }
        require(ok, kernel + ": shape " + Arrays.toString(shape) + " and strides " + Arrays.deepToString(strides)
                + " must have the same rank, 1 to " + maxRank);
    }
}
