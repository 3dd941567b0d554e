package nvlm.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The process's CPU threads: the calling thread plus {@code threads() - 1} workers, sized to the
 * cores (or the {@code nvlm.threads} system property / {@code NVLM_THREADS} environment
 * variable). The CPU kernels split their work over them, and so do the data loader and the image
 * resampler; it lives at the root of the kernels module, the lowest one, so that every module
 * above can use it without depending on a kernel package.
 *
 * <p>Work is split into contiguous chunks whose boundaries depend only on the problem size and
 * the thread count, never on timing, so results are bit-identical from run to run. The caller
 * wakes the workers and then claims chunks itself, as they do, until none is left: a chunk runs
 * on whichever thread is free, and the caller never waits for a worker that has not started.
 * (The ForkJoinPool used before could leave the caller waiting while all chunks ran one after
 * the other on one worker: in some training runs JFR saw every kernel sample on that worker and
 * none on the calling thread. This was not the whole story of those runs' slow steps: the
 * slow stage-0 configuration stayed slow with this class too; see the known limitations in docs/results.md.)
 */
public final class Parallel {
    private static final int THREADS = configuredThreads();
    /** How long an idle thread spins before it parks: kernels come back to back in a training step. */
    private static final long SPIN_NANOS = 20_000;
    private static final Worker[] WORKERS = startWorkers(THREADS - 1);
    /** One fan-out at a time; a second calling thread waits for it. */
    private static final ReentrantLock FAN_OUT = new ReentrantLock();
    /** Set on the calling thread while it runs chunks, so nested calls run inline. */
    private static final ThreadLocal<Boolean> IN_CHUNK = ThreadLocal.withInitial(() -> false);

    private Parallel() {
    }

    /** Number of threads kernels split their work over (the caller and the workers). */
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
     * inside a chunk (no nested fan-out). The first exception a chunk throws is rethrown here,
     * after every chunk has finished.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int chunks = Math.min(THREADS, Math.max(1, n / Math.max(1, grain)));
        if (chunks == 1 || Thread.currentThread() instanceof Worker || IN_CHUNK.get()) {
            body.run(0, n);
            return;
        }
        FAN_OUT.lock();
        try {
            Call call = new Call(body, n, chunks);
            for (int w = 0; w < chunks - 1; w++) {
                WORKERS[w].submit(call);
            }
            IN_CHUNK.set(true);
            try {
                call.runChunks();
            } finally {
                IN_CHUNK.set(false);
            }
            call.await();
            call.rethrow();
        } finally {
            FAN_OUT.unlock();
        }
    }

    /** One {@link #forRange} call: its chunks, the next one to claim, how many are finished, the first error. */
    private static final class Call {
        private final RangeBody body;
        private final int n;
        private final int chunks;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger finished = new AtomicInteger();
        private final AtomicReference<Throwable> error = new AtomicReference<>();
        private final Thread waiter = Thread.currentThread();

        Call(RangeBody body, int n, int chunks) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
        }

        /** Claims and runs chunks until none is left. */
        void runChunks() {
            for (int c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
                try {
                    body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
                } catch (Throwable t) {
                    error.compareAndSet(null, t);
                }
                if (finished.incrementAndGet() == chunks) {
                    LockSupport.unpark(waiter);
                }
            }
        }

        void await() {
            long start = System.nanoTime();
            while (finished.get() < chunks) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
        }

        void rethrow() {
            Throwable t = error.get();
            if (t instanceof RuntimeException e) {
                throw e;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }

    /** A daemon thread that helps with one call's chunks at a time. */
    private static final class Worker extends Thread {
        private final AtomicReference<Call> call = new AtomicReference<>();

        Worker(int index) {
            super("nvlm-cpu-" + index);
            setDaemon(true);
        }

        void submit(Call c) {
            call.set(c);
            LockSupport.unpark(this);
        }

        @Override
        public void run() {
            long idleSince = System.nanoTime();
            while (true) {
                // Taken with a swap: a plain read-then-clear could wipe out the next call's hand-off.
                Call c = call.get() == null ? null : call.getAndSet(null);
                if (c == null) {
                    if (System.nanoTime() - idleSince < SPIN_NANOS) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.park(this);
                    }
                    continue;
                }
                c.runChunks();
                idleSince = System.nanoTime();
            }
        }
    }

    private static Worker[] startWorkers(int count) {
        Worker[] workers = new Worker[count];
        for (int i = 0; i < count; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
        return workers;
    }

    /** Runs {@code body} for every task index in [0, tasks), one index at a time, across the threads. */
    public static void forEach(int tasks, java.util.function.IntConsumer body) {
        forRange(tasks, 1, (start, end) -> {
            for (int i = start; i < end; i++) {
                body.accept(i);
            }
        });
    }

    private static int configuredThreads() {
        return threadCount(System.getProperty("nvlm.threads", System.getenv("NVLM_THREADS")));
    }

    /**
     * Most threads {@code NVLM_THREADS} may ask for: each is a platform thread with its own stack,
     * and more than a few per core only adds switching (20000 would start 20000 threads).
     */
    public static final int MAX_THREADS = 1024;

    /** The thread count a {@code NVLM_THREADS} value asks for (null or blank: the cores). */
    static int threadCount(String value) {
        if (value != null && !value.isBlank()) {
            try {
                int n = Integer.parseInt(value.trim());
                if (n >= 1 && n <= MAX_THREADS) {
                    return n;
                }
            } catch (NumberFormatException ignored) {
                // fall through to the clear error below
            }
            throw new IllegalArgumentException("NVLM_THREADS (or -Dnvlm.threads) must be an integer from 1 to "
                    + MAX_THREADS + ", got '" + value + "'; this machine has "
                    + Runtime.getRuntime().availableProcessors() + " cores");
        }
        return Runtime.getRuntime().availableProcessors();
    }
}
