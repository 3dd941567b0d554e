package nvlm.comm;

import nvlm.tensor.Tensor;

/** The group of one rank: every collective is the identity. What a run without --nproc uses. */
public final class SingleProcess implements Communicator {
    public static final SingleProcess INSTANCE = new SingleProcess();

    private SingleProcess() {
    }

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int size() {
        return 1;
    }

    @Override
    public void allReduce(Tensor t, Reduction op) {
        Communicator.requireContiguous(t, "allReduce");
    }

    @Override
    public void allReduce(double[] values, Reduction op) {
    }

    @Override
    public Tensor reduceScatter(Tensor input) {
        Communicator.requireContiguous(input, "reduceScatter");
        return input.detach().clone();
    }

    @Override
    public Tensor allGather(Tensor input) {
        Communicator.requireContiguous(input, "allGather");
        return input.detach().clone();
    }

    @Override
    public void broadcast(Tensor t, int root) {
        if (root != 0) {
            throw new IllegalArgumentException("broadcast: root " + root + " is not a rank of a group of 1");
        }
    }

    @Override
    public void barrier() {
    }

    @Override
    public Communicator split(int color, int key) {
        return this;
    }

    @Override
    public void abort(String message, int exitCode) {
        System.err.println(message);
        System.err.flush();
        Runtime.getRuntime().halt(exitCode);
    }

    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "single process";
    }
}
