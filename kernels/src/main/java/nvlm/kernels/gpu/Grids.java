package nvlm.kernels.gpu;

import nvlm.kernels.hat.LaunchConfig;

/** Launch grids shared by the kernels of this package. */
final class Grids {
    private Grids() {
    }

    /** Threads per block of the grid-stride elementwise kernels. */
    static final int ELEMENTWISE_THREADS = 256;

    /**
     * Blocks enough to give each of {@code n} elements a thread, capped so that very large
     * tensors use grid-stride loops instead (4096 blocks of 256 threads fill an H100 many times).
     */
    static LaunchConfig elementwise(long n) {
        long blocks = Math.max(1, Math.min(4096, (n + ELEMENTWISE_THREADS - 1) / ELEMENTWISE_THREADS));
        return LaunchConfig.of((int) blocks, ELEMENTWISE_THREADS);
    }

    /** One block of {@link BlockReduce#THREADS} threads per row. */
    static LaunchConfig perRow(int rows) {
        return LaunchConfig.of(Math.max(1, rows), BlockReduce.THREADS);
    }

    static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Checks that {@code buffer} holds at least {@code needed} elements. */
    static void requireLength(String kernel, String argument, nvlm.kernels.hat.Buffer buffer, long needed) {
        if (buffer.length() < needed) {
            throw new IllegalArgumentException(kernel + ": " + argument + " has " + buffer.length()
                    + " elements, needs at least " + needed);
        }
    }
}
