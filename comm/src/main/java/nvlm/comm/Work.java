package nvlm.comm;

/**
 * A collective started without waiting for it (PyTorch's {@code torch.distributed.Work}, what
 * {@code all_reduce(..., async_op=True)} returns): its tensor must not be read or written until
 * {@link #await()} returns. Every rank must start the same collectives in the same order.
 */
public interface Work {
    /** A collective that was complete when it was returned. */
    Work DONE = new Work() {
        @Override
        public boolean isCompleted() {
            return true;
        }

        @Override
        public void await() {
        }
    };

    /**
     * Whether the collective has finished, without blocking. Calling it also lets MPI move the
     * collective on (Open MPI progresses non-blocking collectives only inside MPI calls).
     */
    boolean isCompleted();

    /** Blocks until the collective has finished; then its tensor holds the result. */
    void await();
}
