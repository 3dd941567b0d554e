package nvlm.comm;

import static nvlm.comm.bindings.nccl_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import nvlm.comm.bindings.ncclUniqueId;
import nvlm.cuda.backend.CudaAccelerator;
import nvlm.cuda.backend.CudaStorage;
import nvlm.cuda.runtime.CudaLibraries;
import nvlm.cuda.runtime.CudaLibrary;
import nvlm.kernels.DType;
import nvlm.tensor.Device;
import nvlm.tensor.Tensor;

/**
 * Collectives on CUDA tensors through NCCL, queued on the CUDA backend's one stream (so they are
 * ordered with the kernels that produce and consume the tensors, without synchronizing the host).
 * The NCCL communicator is made over a host group, MPI's: rank 0 draws the unique id, MPI broadcasts
 * it, and every rank calls {@code ncclCommInitRank}; host numbers ({@link #allReduce(double[], Reduction)}),
 * the barrier and the abort go through that host group. One GPU per rank: each rank uses the CUDA
 * backend's device, so ranks sharing a machine need {@code CUDA_VISIBLE_DEVICES} set per rank.
 * {@link #oneRank()} needs no MPI (the GPU check runs it on a machine without Open MPI).
 *
 * <p>NCCL is found like the CUDA libraries ({@code CudaLibraries}, e.g. PyTorch's
 * {@code nvidia/nccl/lib/libnccl.so.2}). Several ranks have not run on this project's machines so
 * far: none has had two GPUs, and NCCL cannot run two ranks on one GPU.
 */
public final class NcclCommunicator implements Communicator {
    /** The host group: MPI's, or the single process ({@link #oneRank()}). */
    private final Communicator host;
    private final MemorySegment comm;
    private final boolean ownsHost;

    private NcclCommunicator(Communicator host, MemorySegment comm, boolean ownsHost) {
        this.host = host;
        this.comm = comm;
        this.ownsHost = ownsHost;
    }

    /** Whether NCCL can be loaded here (loads it if so); the reason otherwise. */
    public static java.util.Optional<String> unavailableReason() {
        return CudaLibraries.unavailableReason(CudaLibrary.NCCL);
    }

    /** An NCCL communicator over the ranks of {@code group} (collective over it). */
    public static NcclCommunicator over(MpiCommunicator group) {
        return create(group, false);
    }

    /**
     * A communicator of one rank on the CUDA backend's device, without MPI: its collectives leave
     * the tensors as they are (allGather and reduceScatter copy), through the real NCCL calls.
     */
    public static NcclCommunicator oneRank() {
        return create(SingleProcess.INSTANCE, false);
    }

    private static NcclCommunicator create(Communicator group, boolean ownsHost) {
        CudaLibraries.require(CudaLibrary.NCCL);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment id = ncclUniqueId.allocate(arena);
            if (group.rank() == 0) {
                check(ncclGetUniqueId(id), "ncclGetUniqueId");
            }
            if (group instanceof MpiCommunicator mpi) {
                mpi.broadcastBytes(id, 0);
            } else if (group.size() != 1) {
                throw new IllegalArgumentException("NCCL over " + group + ": the unique id is broadcast over MPI, so a host"
                        + " group of several ranks must be an MPI communicator");
            }
            MemorySegment holder = arena.allocate(ValueLayout.ADDRESS);
            check(ncclCommInitRank(holder, group.size(), id, group.rank()), "ncclCommInitRank");
            return new NcclCommunicator(group, holder.get(ValueLayout.ADDRESS, 0), ownsHost);
        }
    }

    /** NCCL's version as NCCL encodes it (e.g. 22703 for 2.27.3). */
    public static int version() {
        CudaLibraries.require(CudaLibrary.NCCL);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            check(ncclGetVersion(out), "ncclGetVersion");
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }

    @Override
    public int rank() {
        return host.rank();
    }

    @Override
    public int size() {
        return host.size();
    }

    @Override
    public void allReduce(Tensor t, Reduction op) {
        requireCuda(t, "allReduce");
        MemorySegment p = pointer(t);
        check(ncclAllReduce(p, p, t.numel(), ncclType(t.dtype(), "allReduce"), ncclOp(op), comm, stream(t)), "ncclAllReduce");
    }

    @Override
    public void allReduce(double[] values, Reduction op) {
        host.allReduce(values, op);
    }

    @Override
    public Tensor reduceScatter(Tensor input) {
        requireCuda(input, "reduceScatter");
        Tensor out = Tensor.empty(Device.CUDA, input.dtype(), Communicator.blockShape(input.shape(), size(), "reduceScatter"));
        check(ncclReduceScatter(pointer(input), pointer(out), out.numel(), ncclType(input.dtype(), "reduceScatter"), ncclSum(),
                comm, stream(input)), "ncclReduceScatter");
        return out;
    }

    @Override
    public Tensor allGather(Tensor input) {
        requireCuda(input, "allGather");
        long[] shape = input.shape().length == 0 ? new long[] {size()} : input.shape().clone();
        if (input.shape().length > 0) {
            shape[0] *= size();
        }
        Tensor out = Tensor.empty(Device.CUDA, input.dtype(), shape);
        check(ncclAllGather(pointer(input), pointer(out), input.numel(), ncclType(input.dtype(), "allGather"), comm,
                stream(input)), "ncclAllGather");
        return out;
    }

    @Override
    public void broadcast(Tensor t, int root) {
        requireCuda(t, "broadcast");
        MemorySegment p = pointer(t);
        check(ncclBroadcast(p, p, t.numel(), ncclType(t.dtype(), "broadcast"), root, comm, stream(t)), "ncclBroadcast");
    }

    @Override
    public void barrier() {
        host.barrier();
    }

    @Override
    public Communicator split(int color, int key) {
        return create(host.split(color, key), host instanceof MpiCommunicator);
    }

    @Override
    public void abort(String message, int exitCode) {
        ncclCommAbort(comm);
        host.abort(message, exitCode);
    }

    @Override
    public void close() {
        check(ncclCommDestroy(comm), "ncclCommDestroy");
        if (ownsHost) {
            host.close();
        }
    }

    @Override
    public String toString() {
        return "NCCL rank " + rank() + " of " + size();
    }

    private static void requireCuda(Tensor t, String collective) {
        if (t.device() != Device.CUDA) {
            throw new IllegalArgumentException(collective + ": the NCCL communicator takes CUDA tensors; tensor " + t.name()
                    + " is on " + t.device() + " (CPU tensors go through the MPI communicator)");
        }
        Communicator.requireContiguous(t, collective);
    }

    private static MemorySegment pointer(Tensor t) {
        CudaStorage storage = (CudaStorage) t.storage();
        return MemorySegment.ofAddress(storage.address() + t.offset() * t.dtype().byteSize());
    }

    private static MemorySegment stream(Tensor t) {
        if (!(((CudaStorage) t.storage()).accelerator() instanceof CudaAccelerator gpu)) {
            throw new IllegalArgumentException("NCCL needs a real GPU; tensor " + t.name() + " lives on "
                    + ((CudaStorage) t.storage()).accelerator().description());
        }
        return gpu.stream().handle();
    }

    private static int ncclType(DType dtype, String collective) {
        return switch (dtype) {
            case F32 -> ncclFloat32();
            case I64 -> ncclInt64();
            default -> throw new IllegalArgumentException(collective + ": dtype " + dtype + " is not supported by the NCCL"
                    + " communicator (F32, I64)");
        };
    }

    private static int ncclOp(Reduction op) {
        return switch (op) {
            case SUM -> ncclSum();
            case MAX -> ncclMax();
        };
    }

    private static void check(int result, String call) {
        if (result != ncclSuccess()) {
            MemorySegment text = ncclGetErrorString(result);
            throw new CommException(call + " failed with NCCL result " + result + ": "
                    + (text.equals(MemorySegment.NULL) ? "(no text)" : text.reinterpret(1024).getString(0)));
        }
    }
}
