package nvlm.comm;

import nvlm.tensor.Tensor;

/**
 * Run under mpirun by {@link MpiCommunicatorTest}: rank 1 fails while rank 0 waits in an
 * all-reduce that rank 1 never joins; rank 1's abort must end rank 0 too.
 */
public final class AbortCheck {
    private AbortCheck() {
    }

    public static void main(String[] args) {
        Communicator comm = World.join();
        if (comm.rank() == 1) {
            comm.abort("rank 1 of " + comm.size() + " failed: a simulated error; ending every rank", 3);
        }
        comm.allReduce(Tensor.zeros(4));
        System.out.println("rank " + comm.rank() + " left the all-reduce: the abort did not reach it");
        System.exit(0);
    }
}
