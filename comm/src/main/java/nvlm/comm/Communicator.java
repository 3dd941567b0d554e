package nvlm.comm;

import nvlm.tensor.Tensor;

/**
 * A group of ranks (processes) and the collectives over it: what data and tensor parallelism
 * need, whatever carries them ({@link MpiCommunicator} for CPU tensors, {@link NcclCommunicator}
 * for CUDA tensors, {@link SingleProcess} for one rank). Every rank of the group must call the
 * same collectives in the same order with tensors of the same shape and dtype; tensors must be
 * contiguous. Dimension 0 is the one split or concatenated.
 */
public interface Communicator extends AutoCloseable {
    /** This process's index in the group, 0 to {@code size() - 1}. */
    int rank();

    /** Ranks in the group. */
    int size();

    /** Combines {@code t} across ranks, in place: afterwards every rank holds the same values. */
    void allReduce(Tensor t, Reduction op);

    /** Sums {@code t} across ranks, in place. */
    default void allReduce(Tensor t) {
        allReduce(t, Reduction.SUM);
    }

    /**
     * Starts summing {@code t} across ranks, in place, and returns without waiting: the caller
     * computes while the sum travels (data parallelism overlapping the backward pass), and reads
     * {@code t} after {@link Work#await()}. The same result as {@link #allReduce(Tensor)}. A
     * communicator without non-blocking collectives sums at once and returns {@link Work#DONE}.
     */
    default Work allReduceAsync(Tensor t) {
        allReduce(t);
        return Work.DONE;
    }

    /**
     * Combines {@code values} across ranks (host numbers: losses, token counts), in place. Sums of
     * doubles are exact for counts below 2^53.
     */
    void allReduce(double[] values, Reduction op);

    /**
     * The element-wise sum over ranks of {@code input}, of which this rank keeps block
     * {@code rank()} of dimension 0 ({@code input.size(0)} must divide by {@code size()}).
     */
    Tensor reduceScatter(Tensor input);

    /** Every rank's {@code input} (all the same shape) concatenated along dimension 0, in rank order. */
    Tensor allGather(Tensor input);

    /** Overwrites {@code t} on every rank with rank {@code root}'s values, in place. */
    void broadcast(Tensor t, int root);

    /** Returns when every rank of the group has called it. */
    void barrier();

    /**
     * Splits the group into sub-groups, one per {@code color}, ranked by {@code key} (ties by
     * rank): the tensor- and data-parallel groups of a TP x DP grid. Collective over this group.
     */
    Communicator split(int color, int key);

    /**
     * Ends every rank of the job at once, after printing {@code message} (which should name this
     * rank and the cause) on stderr: the way out when one rank fails, so that the others do not
     * wait forever in a collective. Does not return.
     */
    void abort(String message, int exitCode);

    /** Frees the group (not the world). */
    @Override
    void close();

    /** Checks the shared preconditions of a collective on {@code t}. */
    static void requireContiguous(Tensor t, String collective) {
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(collective + ": tensor " + t.name() + " of shape "
                    + java.util.Arrays.toString(t.shape()) + " must be contiguous (call contiguous() first)");
        }
    }

    /** The shape of block {@code size}ths of {@code shape} along dimension 0, or a clear error. */
    static long[] blockShape(long[] shape, int size, String collective) {
        if (shape.length == 0 || shape[0] % size != 0) {
            throw new IllegalArgumentException(collective + ": dimension 0 of shape " + java.util.Arrays.toString(shape)
                    + " must be divisible by the group size " + size);
        }
        long[] out = shape.clone();
        out[0] = shape[0] / size;
        return out;
    }
}
