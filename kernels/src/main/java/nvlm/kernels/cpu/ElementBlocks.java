package nvlm.kernels.cpu;

import nvlm.kernels.Parallel;

/**
 * Runs a long index range [0, n) on {@link Parallel}: one contiguous piece per worker when the
 * range is large, inline on the calling thread when it has fewer than {@code minPerTask} indices
 * (fork/join costs microseconds, more than small element-wise ops take).
 */
final class ElementBlocks {
    /** Default: element-wise work below 64 Ki elements per task stays single-threaded. */
    static final long MIN_PER_TASK = 1 << 16;
    /** Ranges longer than this are scheduled in units of several indices (Parallel counts in int). */
    private static final long MAX_UNITS = 1L << 30;

    @FunctionalInterface
    interface LongRangeBody {
        void run(long start, long end);
    }

    private ElementBlocks() {
    }

    static void forElements(long n, LongRangeBody body) {
        forElements(n, MIN_PER_TASK, body);
    }

    static void forElements(long n, long minPerTask, LongRangeBody body) {
        if (n <= 0) {
            return;
        }
        if (n <= minPerTask || Parallel.threads() == 1) {
            body.run(0, n);
            return;
        }
        long unit = n <= MAX_UNITS ? 1 : (n + MAX_UNITS - 1) / MAX_UNITS;
        int units = (int) ((n + unit - 1) / unit);
        int grain = (int) Math.max(1, minPerTask / unit);
        Parallel.forRange(units, grain, (s, e) -> body.run(s * unit, Math.min(e * unit, n)));
    }
}
