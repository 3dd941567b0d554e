package nvlm.comm;

import java.util.Map;
import nvlm.tensor.Device;
import java.util.Optional;

/**
 * The ranks a launcher started, read from its environment: Open MPI's {@code mpirun}
 * ({@code OMPI_COMM_WORLD_RANK}/{@code _SIZE}), PMI launchers such as MPICH's or Slurm's
 * {@code srun --mpi=pmi2/pmix} ({@code PMI_RANK}/{@code PMI_SIZE}, {@code PMIX_RANK}) and plain
 * {@code srun} ({@code SLURM_PROCID}/{@code SLURM_NTASKS}). A process with none of them is a
 * single process.
 *
 * @param rank     this process's rank
 * @param size     ranks in the job
 * @param launcher which variables said so
 */
public record World(int rank, int size, String launcher) {

    /** The launcher's world, if this process was started by one. */
    public static Optional<World> fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    static Optional<World> fromEnvironment(Map<String, String> env) {
        String[][] pairs = {
            {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "mpirun (Open MPI)"},
            {"PMI_RANK", "PMI_SIZE", "PMI"},
            {"PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "PMIx"},
            {"SLURM_PROCID", "SLURM_NTASKS", "srun (Slurm)"},
        };
        for (String[] p : pairs) {
            String rank = env.get(p[0]);
            String size = env.get(p[1]);
            if (rank != null && size != null) {
                try {
                    World w = new World(Integer.parseInt(rank.strip()), Integer.parseInt(size.strip()), p[2]);
                    if (w.rank < 0 || w.rank >= w.size) {
                        throw new CommException(p[0] + "=" + rank + " is not a rank of " + p[1] + "=" + size);
                    }
                    return Optional.of(w);
                } catch (NumberFormatException e) {
                    throw new CommException(p[0] + "=" + rank + ", " + p[1] + "=" + size + ": not integers");
                }
            }
        }
        return Optional.empty();
    }

    /**
     * The communicator for tensors on {@code device}: NCCL over the launcher's world for CUDA, MPI
     * for the CPU ({@link #join()}), the single process when no launcher started this one.
     */
    public static Communicator join(Device device) {
        Communicator world = join();
        if (device == Device.CUDA && world instanceof MpiCommunicator mpi) {
            return NcclCommunicator.over(mpi);
        }
        return world;
    }

    /**
     * The communicator of this process: MPI_COMM_WORLD when a launcher started it (its size must
     * be the launcher's), the single process otherwise.
     */
    public static Communicator join() {
        Optional<World> world = fromEnvironment();
        if (world.isEmpty() || world.get().size() == 1) {
            return SingleProcess.INSTANCE;
        }
        MpiCommunicator mpi = MpiCommunicator.world();
        if (mpi.size() != world.get().size() || mpi.rank() != world.get().rank()) {
            throw new CommException("MPI says rank " + mpi.rank() + " of " + mpi.size() + " but " + world.get().launcher()
                    + " says rank " + world.get().rank() + " of " + world.get().size()
                    + " (was libmpi launched by a different MPI's launcher?)");
        }
        return mpi;
    }
}
