package nvlm.comm;

import static nvlm.comm.bindings.mpi_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import nvlm.comm.bindings.mpi_h;

/**
 * The MPI runtime: the only caller of {@link mpi_h}. Initializes MPI once per process
 * ({@code MPI_THREAD_SERIALIZED}: any thread may call, one at a time, which {@link MpiCommunicator}
 * guarantees by synchronizing), sets {@code MPI_ERRORS_RETURN} on the world so a failed call becomes
 * a {@link CommException} naming the call and MPI's text, and finalizes at JVM exit.
 *
 * <p>Open MPI's predefined handles are the addresses of its global structs
 * ({@code MPI_COMM_WORLD = &ompi_mpi_comm_world}, {@code MPI_FLOAT = &ompi_mpi_float}, ...),
 * which jextract skips (their struct types are incomplete in mpi.h); they are looked up here by
 * symbol. This ties the runtime to Open MPI's ABI (MPICH's handles are integers).
 */
final class Mpi {
    private static boolean initialized;
    private static volatile boolean aborting;
    private static MemorySegment world;
    private static MemorySegment float32;
    private static MemorySegment float64;
    private static MemorySegment int32;
    private static MemorySegment int64;
    private static MemorySegment byteType;
    private static MemorySegment sum;
    private static MemorySegment max;

    private Mpi() {
    }

    /** Loads libmpi and initializes MPI (once); returns MPI_COMM_WORLD. */
    static synchronized MemorySegment init() {
        if (initialized) {
            return world;
        }
        CommLibraries.requireMpi();
        SymbolLookup lookup = SymbolLookup.loaderLookup();
        world = handle(lookup, "ompi_mpi_comm_world");
        float32 = handle(lookup, "ompi_mpi_float");
        float64 = handle(lookup, "ompi_mpi_double");
        int32 = handle(lookup, "ompi_mpi_int");
        int64 = handle(lookup, "ompi_mpi_int64_t");
        byteType = handle(lookup, "ompi_mpi_byte");
        sum = handle(lookup, "ompi_mpi_op_sum");
        max = handle(lookup, "ompi_mpi_op_max");
        MemorySegment errorsReturn = handle(lookup, "ompi_mpi_errors_return");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment flag = arena.allocate(ValueLayout.JAVA_INT);
            check(MPI_Initialized(flag), "MPI_Initialized");
            if (flag.get(ValueLayout.JAVA_INT, 0) == 0) {
                MemorySegment provided = arena.allocate(ValueLayout.JAVA_INT);
                check(MPI_Init_thread(MemorySegment.NULL, MemorySegment.NULL, MPI_THREAD_SERIALIZED(), provided), "MPI_Init_thread");
                if (provided.get(ValueLayout.JAVA_INT, 0) < MPI_THREAD_SERIALIZED()) {
                    throw new CommException("MPI_Init_thread: the MPI library provides thread level "
                            + provided.get(ValueLayout.JAVA_INT, 0) + ", below MPI_THREAD_SERIALIZED (" + MPI_THREAD_SERIALIZED()
                            + ") that a JVM with several threads needs");
                }
                Runtime.getRuntime().addShutdownHook(new Thread(Mpi::finalizeAtExit, "nvlm-mpi-finalize"));
            }
        }
        check(MPI_Comm_set_errhandler(world, errorsReturn), "MPI_Comm_set_errhandler");
        initialized = true;
        return world;
    }

    private static MemorySegment handle(SymbolLookup lookup, String symbol) {
        return lookup.find(symbol).orElseThrow(() -> new CommException(CommLibraries.mpiLoadedFrom() + " has no symbol "
                + symbol + ": the MPI bindings need Open MPI (its handles are global symbols), not another MPI"));
    }

    private static synchronized void finalizeAtExit() {
        if (aborting) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment flag = arena.allocate(ValueLayout.JAVA_INT);
            if (MPI_Finalized(flag) == MPI_SUCCESS() && flag.get(ValueLayout.JAVA_INT, 0) == 0) {
                MPI_Finalize();
            }
        }
    }

    static MemorySegment float32() {
        return float32;
    }

    static MemorySegment float64() {
        return float64;
    }

    static MemorySegment int32() {
        return int32;
    }

    static MemorySegment int64() {
        return int64;
    }

    static MemorySegment byteType() {
        return byteType;
    }

    static MemorySegment op(Reduction r) {
        return switch (r) {
            case SUM -> sum;
            case MAX -> max;
        };
    }

    static int rank(MemorySegment comm) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            check(MPI_Comm_rank(comm, out), "MPI_Comm_rank");
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }

    static int size(MemorySegment comm) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            check(MPI_Comm_size(comm, out), "MPI_Comm_size");
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }

    static MemorySegment split(MemorySegment comm, int color, int key) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            check(MPI_Comm_split(comm, color, key, out), "MPI_Comm_split");
            return out.get(ValueLayout.ADDRESS, 0);
        }
    }

    static void free(MemorySegment comm) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment holder = arena.allocate(ValueLayout.ADDRESS);
            holder.set(ValueLayout.ADDRESS, 0, comm);
            check(MPI_Comm_free(holder), "MPI_Comm_free");
        }
    }

    static void allReduceInPlace(MemorySegment buf, int count, MemorySegment type, MemorySegment op, MemorySegment comm) {
        // MPI_IN_PLACE is ((void *) 1) in Open MPI's mpi.h.
        check(MPI_Allreduce(MemorySegment.ofAddress(1), buf, count, type, op, comm), "MPI_Allreduce");
    }

    /** Starts an in-place MPI_Iallreduce; {@code request} (one MPI_Request) receives its handle. */
    static void iallReduceInPlace(MemorySegment buf, int count, MemorySegment type, MemorySegment op, MemorySegment comm,
                                  MemorySegment request) {
        check(MPI_Iallreduce(MemorySegment.ofAddress(1), buf, count, type, op, comm, request), "MPI_Iallreduce");
    }

    /** MPI_Test: whether the request has completed (it is then freed and set to MPI_REQUEST_NULL). */
    static boolean test(MemorySegment request) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment flag = arena.allocate(ValueLayout.JAVA_INT);
            // MPI_STATUS_IGNORE is ((MPI_Status *) 0).
            check(MPI_Test(request, flag, MemorySegment.NULL), "MPI_Test");
            return flag.get(ValueLayout.JAVA_INT, 0) != 0;
        }
    }

    /** MPI_Wait: blocks until the request has completed (it is then freed and set to MPI_REQUEST_NULL). */
    static void await(MemorySegment request) {
        check(MPI_Wait(request, MemorySegment.NULL), "MPI_Wait");
    }

    static void reduceScatterBlock(MemorySegment send, MemorySegment recv, int recvCount, MemorySegment type, MemorySegment op,
                                   MemorySegment comm) {
        check(MPI_Reduce_scatter_block(send, recv, recvCount, type, op, comm), "MPI_Reduce_scatter_block");
    }

    static void allGather(MemorySegment send, int count, MemorySegment recv, MemorySegment type, MemorySegment comm) {
        check(MPI_Allgather(send, count, type, recv, count, type, comm), "MPI_Allgather");
    }

    static void broadcast(MemorySegment buf, int count, MemorySegment type, int root, MemorySegment comm) {
        check(MPI_Bcast(buf, count, type, root, comm), "MPI_Bcast");
    }

    static void barrier(MemorySegment comm) {
        check(MPI_Barrier(comm), "MPI_Barrier");
    }

    static double wtime() {
        return MPI_Wtime();
    }

    /** MPI_Abort on the world: every rank is killed by the launcher; never returns normally. */
    static void abort(int code) {
        aborting = true;
        MPI_Abort(world, code);
    }

    static String libraryVersion() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocate(MPI_MAX_LIBRARY_VERSION_STRING());
            MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
            check(MPI_Get_library_version(text, length), "MPI_Get_library_version");
            return text.getString(0).strip();
        }
    }

    static void check(int code, String call) {
        if (code != MPI_SUCCESS()) {
            throw new CommException(call + " failed with MPI error " + code + ": " + errorString(code));
        }
    }

    private static String errorString(int code) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocate(MPI_MAX_ERROR_STRING());
            MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
            return MPI_Error_string(code, text, length) == MPI_SUCCESS() ? text.getString(0) : "(no text)";
        }
    }
}
