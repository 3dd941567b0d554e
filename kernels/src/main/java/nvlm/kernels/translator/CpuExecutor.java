package nvlm.kernels.translator;

import java.lang.invoke.MethodHandle;
import java.util.concurrent.atomic.AtomicReference;
import nvlm.kernels.cpu.Parallel;

/**
 * Runs a kernel's Java method over a launch grid on the CPU, with GPU semantics: blocks run in
 * parallel on {@link Parallel}'s pool; within a block, a kernel that calls {@code barrier()} gets
 * one virtual thread per kernel thread, meeting at a {@link BlockBarrier} (a thread that returns leaves
 * the barrier, as on current GPUs); a kernel that never does runs its threads one after another.
 */
final class CpuExecutor {
    private CpuExecutor() {
    }

    /** {@code kernel} takes (KernelContext, args...) as one Object[]. */
    static void run(String name, MethodHandle kernel, LaunchConfig config, Object[] args, boolean usesBarrier) {
        long blocks = config.blocks();
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + ": " + blocks + " blocks are too many for the CPU executor");
        }
        try {
            runBlocks(name, kernel, config, args, usesBarrier, (int) blocks);
        } catch (RuntimeException e) {
            // The pool may rethrow a copy of the failure made on another thread: report the original.
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof KernelFailure failure) {
                    throw failure;
                }
            }
            throw e;
        }
    }

    /** A kernel thread failed; the message names the block and thread. */
    static final class KernelFailure extends IllegalStateException {
        KernelFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static void runBlocks(String name, MethodHandle kernel, LaunchConfig config, Object[] args,
                                  boolean usesBarrier, int blocks) {
        Parallel.forEach(blocks, block -> {
            int bx = block % config.gridX();
            int by = (block / config.gridX()) % config.gridY();
            int bz = (int) (block / ((long) config.gridX() * config.gridY()));
            if (usesBarrier) {
                runWithBarriers(name, kernel, config, args, bx, by, bz);
            } else {
                runSequentially(name, kernel, config, args, bx, by, bz);
            }
        });
    }

    private static void runSequentially(String name, MethodHandle kernel, LaunchConfig config, Object[] args,
                                        int bx, int by, int bz) {
        KernelContext.Block block = new KernelContext.Block(null);
        int threads = config.threadsPerBlock();
        for (int t = 0; t < threads; t++) {
            Throwable failure = invoke(kernel, context(config, bx, by, bz, t, block), args);
            if (failure != null) {
                throw failed(name, config, bx, by, bz, t, failure);
            }
        }
    }

    private static void runWithBarriers(String name, MethodHandle kernel, LaunchConfig config, Object[] args,
                                        int bx, int by, int bz) {
        int threads = config.threadsPerBlock();
        BlockBarrier barrier = new BlockBarrier(threads);
        KernelContext.Block block = new KernelContext.Block(barrier);
        Thread[] workers = new Thread[threads];
        AtomicReference<Throwable> firstFailure = new AtomicReference<>();
        int[] failedThread = {-1};
        for (int t = 0; t < threads; t++) {
            KernelContext context = context(config, bx, by, bz, t, block);
            int thread = t;
            workers[t] = Thread.ofVirtual().unstarted(() -> {
                try {
                    Throwable failure = invoke(kernel, context, args);
                    if (failure != null && firstFailure.compareAndSet(null, failure)) {
                        failedThread[0] = thread;
                    }
                } finally {
                    barrier.leave();
                }
            });
        }
        for (Thread worker : workers) {
            worker.start();
        }
        try {
            for (Thread worker : workers) {
                worker.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(name + ": interrupted while running block (" + bx + "," + by + "," + bz + ")", e);
        }
        if (firstFailure.get() != null) {
            throw failed(name, config, bx, by, bz, failedThread[0], firstFailure.get());
        }
    }

    private static KernelContext context(LaunchConfig config, int bx, int by, int bz, int t, KernelContext.Block block) {
        int tx = t % config.blockX();
        int ty = (t / config.blockX()) % config.blockY();
        int tz = t / (config.blockX() * config.blockY());
        return new KernelContext(config, bx, by, bz, tx, ty, tz, block);
    }

    private static Throwable invoke(MethodHandle kernel, KernelContext context, Object[] args) {
        Object[] full = new Object[args.length + 1];
        full[0] = context;
        System.arraycopy(args, 0, full, 1, args.length);
        try {
            kernel.invoke(full);
            return null;
        } catch (Throwable e) {
            return e;
        }
    }

    private static RuntimeException failed(String name, LaunchConfig config, int bx, int by, int bz, int t, Throwable cause) {
        int tx = t % config.blockX();
        int ty = (t / config.blockX()) % config.blockY();
        int tz = t / (config.blockX() * config.blockY());
        return new KernelFailure(name + " failed on the CPU in block (" + bx + "," + by + "," + bz + ") thread ("
                + tx + "," + ty + "," + tz + ") of " + config + ": " + cause, cause);
    }
}
