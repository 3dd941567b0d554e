package nvlm.comm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import nvlm.kernels.DType;
import nvlm.tensor.Device;
import nvlm.tensor.Tensor;

/**
 * Collectives over an MPI communicator on CPU tensors (F32, I32, I64), straight from and into the
 * tensors' memory: {@code MPI_Allreduce} (in place), {@code MPI_Reduce_scatter_block},
 * {@code MPI_Allgather}, {@code MPI_Bcast}, {@code MPI_Barrier}. Calls are serialized (MPI is
 * initialized {@code MPI_THREAD_SERIALIZED}); buffers above 2^31 - 1 elements go in pieces.
 */
public final class MpiCommunicator implements Communicator {
    private static final int MAX_COUNT = Integer.MAX_VALUE;
    private static final Object LOCK = new Object();
    private final MemorySegment comm;
    private final boolean owned;
    private final int rank;
    private final int size;

    private MpiCommunicator(MemorySegment comm, boolean owned) {
        this.comm = comm;
        this.owned = owned;
        this.rank = Mpi.rank(comm);
        this.size = Mpi.size(comm);
    }

    /** MPI_COMM_WORLD: every rank the launcher ({@code mpirun}, {@code srun}) started. Initializes MPI. */
    public static MpiCommunicator world() {
        synchronized (LOCK) {
            return new MpiCommunicator(Mpi.init(), false);
        }
    }

    /** The MPI library's version line (Open MPI's). */
    public static String libraryVersion() {
        synchronized (LOCK) {
            Mpi.init();
            return Mpi.libraryVersion();
        }
    }

    /** MPI_Wtime: seconds on a clock shared by the ranks' benchmark timings. */
    public static double wallTime() {
        return Mpi.wtime();
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public void allReduce(Tensor t, Reduction op) {
        MemorySegment data = cpuSegment(t, "allReduce");
        MemorySegment type = mpiType(t.dtype(), "allReduce");
        long elementBytes = t.dtype().byteSize();
        synchronized (LOCK) {
            for (long start = 0; start < t.numel(); start += MAX_COUNT) {
                int count = (int) Math.min(MAX_COUNT, t.numel() - start);
                Mpi.allReduceInPlace(data.asSlice(start * elementBytes, count * elementBytes), count, type, Mpi.op(op), comm);
            }
        }
    }

    /** {@code MPI_Iallreduce} in place (in pieces of at most 2^31 - 1 elements, each its own request). */
    @Override
    public Work allReduceAsync(Tensor t) {
        MemorySegment data = cpuSegment(t, "allReduceAsync");
        MemorySegment type = mpiType(t.dtype(), "allReduceAsync");
        long elementBytes = t.dtype().byteSize();
        int pieces = (int) Math.max(1, (t.numel() + MAX_COUNT - 1) / MAX_COUNT);
        // Outlives this call: MPI fills in the handles now and reads them in MPI_Test / MPI_Wait.
        MemorySegment requests = Arena.ofAuto().allocate(ValueLayout.ADDRESS, pieces);
        synchronized (LOCK) {
            for (int i = 0; i < pieces; i++) {
                long start = (long) i * MAX_COUNT;
                int count = (int) Math.min(MAX_COUNT, t.numel() - start);
                Mpi.iallReduceInPlace(data.asSlice(start * elementBytes, count * elementBytes), count, type, Mpi.op(Reduction.SUM),
                        comm, requests.asSlice(i * ValueLayout.ADDRESS.byteSize(), ValueLayout.ADDRESS.byteSize()));
            }
        }
        return new PendingAllReduce(t, requests, pieces);
    }

    /** The requests of one started all-reduce; holds the tensor so that its memory outlives them. */
    private static final class PendingAllReduce implements Work {
        private static final long HANDLE = ValueLayout.ADDRESS.byteSize();
        private final Tensor tensor;
        private final MemorySegment requests;
        private final int pieces;
        /** The first piece not known to be complete. */
        private int next;

        PendingAllReduce(Tensor tensor, MemorySegment requests, int pieces) {
            this.tensor = tensor;
            this.requests = requests;
            this.pieces = pieces;
        }

        @Override
        public boolean isCompleted() {
            synchronized (LOCK) {
                while (next < pieces && Mpi.test(requests.asSlice(next * HANDLE, HANDLE))) {
                    next++;
                }
                return next == pieces;
            }
        }

        @Override
        public void await() {
            synchronized (LOCK) {
                for (; next < pieces; next++) {
                    Mpi.await(requests.asSlice(next * HANDLE, HANDLE));
                }
            }
        }

        @Override
        public String toString() {
            return "all-reduce of " + tensor.name() + (next == pieces ? " (complete)" : " (in flight)");
        }
    }

    @Override
    public void allReduce(double[] values, Reduction op) {
        if (values.length == 0) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocateFrom(ValueLayout.JAVA_DOUBLE, values);
            synchronized (LOCK) {
                Mpi.allReduceInPlace(buf, values.length, Mpi.float64(), Mpi.op(op), comm);
            }
            MemorySegment.copy(buf, ValueLayout.JAVA_DOUBLE, 0, values, 0, values.length);
        }
    }

    @Override
    public Tensor reduceScatter(Tensor input) {
        MemorySegment send = cpuSegment(input, "reduceScatter");
        long[] shape = Communicator.blockShape(input.shape(), size, "reduceScatter");
        Tensor out = Tensor.empty(Device.CPU, input.dtype(), shape);
        long count = out.numel();
        requireCount(count, "reduceScatter");
        synchronized (LOCK) {
            Mpi.reduceScatterBlock(send, out.segment(), (int) count, mpiType(input.dtype(), "reduceScatter"), Mpi.op(Reduction.SUM), comm);
        }
        return out;
    }

    @Override
    public Tensor allGather(Tensor input) {
        MemorySegment send = cpuSegment(input, "allGather");
        long[] shape = input.shape().length == 0 ? new long[] {size} : input.shape().clone();
        shape[0] *= input.shape().length == 0 ? 1 : size;
        Tensor out = Tensor.empty(Device.CPU, input.dtype(), shape);
        requireCount(out.numel(), "allGather");
        synchronized (LOCK) {
            Mpi.allGather(send, (int) input.numel(), out.segment(), mpiType(input.dtype(), "allGather"), comm);
        }
        return out;
    }

    @Override
    public void broadcast(Tensor t, int root) {
        if (root < 0 || root >= size) {
            throw new IllegalArgumentException("broadcast: root " + root + " is not a rank of this group of " + size);
        }
        MemorySegment data = cpuSegment(t, "broadcast");
        MemorySegment type = mpiType(t.dtype(), "broadcast");
        long elementBytes = t.dtype().byteSize();
        synchronized (LOCK) {
            for (long start = 0; start < t.numel(); start += MAX_COUNT) {
                int count = (int) Math.min(MAX_COUNT, t.numel() - start);
                Mpi.broadcast(data.asSlice(start * elementBytes, count * elementBytes), count, type, root, comm);
            }
        }
    }

    /** Broadcasts raw host bytes from {@code root} (the NCCL unique id). */
    void broadcastBytes(MemorySegment bytes, int root) {
        synchronized (LOCK) {
            Mpi.broadcast(bytes, Math.toIntExact(bytes.byteSize()), Mpi.byteType(), root, comm);
        }
    }

    @Override
    public void barrier() {
        synchronized (LOCK) {
            Mpi.barrier(comm);
        }
    }

    @Override
    public Communicator split(int color, int key) {
        synchronized (LOCK) {
            return new MpiCommunicator(Mpi.split(comm, color, key), true);
        }
    }

    @Override
    public void abort(String message, int exitCode) {
        System.err.println(message);
        System.err.flush();
        System.out.flush();
        Mpi.abort(exitCode);
        Runtime.getRuntime().halt(exitCode);
    }

    @Override
    public void close() {
        if (owned) {
            synchronized (LOCK) {
                Mpi.free(comm);
            }
        }
    }

    @Override
    public String toString() {
        return "MPI rank " + rank + " of " + size;
    }

    private static MemorySegment cpuSegment(Tensor t, String collective) {
        if (t.device() != Device.CPU) {
            throw new IllegalArgumentException(collective + ": the MPI communicator takes CPU tensors; tensor " + t.name()
                    + " is on " + t.device() + " (CUDA tensors go through the NCCL communicator)");
        }
        Communicator.requireContiguous(t, collective);
        return t.segment();
    }

    private static MemorySegment mpiType(DType dtype, String collective) {
        return switch (dtype) {
            case F32 -> Mpi.float32();
            case I32 -> Mpi.int32();
            case I64 -> Mpi.int64();
            default -> throw new IllegalArgumentException(collective + ": dtype " + dtype + " is not supported by the MPI"
                    + " communicator (F32, I32, I64; widen BF16/F16 to F32 first)");
        };
    }

    private void requireCount(long count, String collective) {
        if (count > MAX_COUNT) {
            throw new IllegalArgumentException(collective + ": " + count + " elements per rank exceed MPI's int count "
                    + MAX_COUNT + "; split the tensor");
        }
    }
}
