package nvlm.kernels.translator;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code __syncthreads()} for the virtual threads of one block on the CPU. Unlike
 * {@link java.util.concurrent.Phaser} it never spins: hundreds of virtual threads share a few
 * carrier threads, and a spinning waiter only keeps the threads it waits for off the CPU. A
 * thread that returns {@link #leave}s, so the others do not wait for it (as on current GPUs).
 */
final class BlockBarrier {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition advanced = lock.newCondition();
    private int parties;
    private int arrived;
    private long generation;

    BlockBarrier(int parties) {
        this.parties = parties;
    }

    void await() {
        lock.lock();
        try {
            long current = generation;
            if (++arrived == parties) {
                advance();
                return;
            }
            while (generation == current) {
                advanced.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
    }

    void leave() {
        lock.lock();
        try {
            parties--;
            if (arrived > 0 && arrived == parties) {
                advance();
            }
        } finally {
            lock.unlock();
        }
    }

    private void advance() {
        arrived = 0;
        generation++;
        advanced.signalAll();
    }
}
