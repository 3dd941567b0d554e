package nvlm.trainer.parallel;

import nvlm.comm.Communicator;
import nvlm.comm.SingleProcess;

/**
 * A TP x DP grid over a world of ranks, laid out as Megatron does: world rank
 * {@code r = d * T + t} is tensor-parallel rank {@code t} of data-parallel replica {@code d}, so
 * the T ranks that split one model are neighbours (on one machine when ranks are placed in order)
 * and the ranks holding the same block of the model form the data-parallel groups.
 *
 * @param world          every rank
 * @param tensorParallel the T ranks that together hold one copy of the model (this rank's group)
 * @param dataParallel   the world size / T ranks that hold the same block (this rank's group)
 */
public record ParallelGrid(Communicator world, Communicator tensorParallel, Communicator dataParallel) {

    /** The grid of {@code tensorParallel} ranks per model over {@code world} (collective over the world). */
    public static ParallelGrid of(Communicator world, int tensorParallel) {
        if (tensorParallel < 1 || world.size() % tensorParallel != 0) {
            throw new IllegalArgumentException("tensor parallelism over " + tensorParallel + " ranks: the number of ranks ("
                    + world.size() + ") must be a multiple of it (TP x DP = ranks; --tp T with --nproc N)");
        }
        if (tensorParallel == 1) {
            return new ParallelGrid(world, SingleProcess.INSTANCE, world);
        }
        int rank = world.rank();
        Communicator tp = world.split(rank / tensorParallel, rank);
        Communicator dp = tensorParallel == world.size() ? SingleProcess.INSTANCE : world.split(rank % tensorParallel, rank);
        return new ParallelGrid(world, tp, dp);
    }

    /** Whether the model is split across ranks. */
    public boolean splitsTheModel() {
        return tensorParallel.size() > 1;
    }
}
