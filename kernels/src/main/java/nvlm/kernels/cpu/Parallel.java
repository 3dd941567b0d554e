package nvlm.kernels.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * The one thread pool every CPU kernel runs on: fixed, sized to the cores (or the
 * {@code nvlm.threads} system property / {@code NVLM_THREADS} environment variable).
 *
 * <p>Work is split into contiguous chunks whose boundaries depend only on the problem size and
 * the thread count, never on timing, so results are bit-identical from run to run.
 */
public final class Parallel {
    private static final int THREADS = configuredThreads();
    private static final ForkJoinPool POOL = new ForkJoinPool(THREADS,
            pool -> {
                var thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                thread.setName("nvlm-cpu-" + thread.getPoolIndex());
                thread.setDaemon(true);
                return thread;
            }, null, false);

    private Parallel() {
    }

    /** Number of worker threads kernels split their work over. */
    public static int threads() {
        return THREADS;
    }

    /** A body run over the half-open index range [start, end). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /**
     * Runs {@code body} over [0, n) split into at most {@link #threads()} contiguous chunks of at
     * least {@code grain} indices each. Runs inline when one chunk suffices or when called from
     * inside a pool task (no nested fan-out).
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int chunks = Math.min(THREADS, Math.max(1, n / Math.max(1, grain)));
        if (chunks == 1 || ForkJoinTask.inForkJoinPool()) {
            body.run(0, n);
            return;
        }
        List<RecursiveAction> tasks = new ArrayList<>(chunks);
        for (int c = 0; c < chunks; c++) {
            int start = (int) ((long) n * c / chunks);
            int end = (int) ((long) n * (c + 1) / chunks);
            tasks.add(new RecursiveAction() {
                @Override
                protected void compute() {
                    body.run(start, end);
                }
            });
        }
        POOL.invoke(new RecursiveAction() {
            @Override
            protected void compute() {
                invokeAll(tasks);
            }
        });
    }

    /** Runs {@code body} for every task index in [0, tasks), one index at a time, across the pool. */
    public static void forEach(int tasks, java.util.function.IntConsumer body) {
        forRange(tasks, 1, (start, end) -> {
            for (int i = start; i < end; i++) {
                body.accept(i);
            }
        });
    }

    private static int configuredThreads() {
        String value = System.getProperty("nvlm.threads", System.getenv("NVLM_THREADS"));
        if (value != null && !value.isBlank()) {
            try {
                int n = Integer.parseInt(value.trim());
                if (n >= 1) {
                    return n;
                }
            } catch (NumberFormatException ignored) {
                // fall through to the clear error below
            }
            throw new IllegalArgumentException(
                    "nvlm.threads / NVLM_THREADS must be a positive integer, got '" + value + "'");
        }
        return Runtime.getRuntime().availableProcessors();
    }
}
