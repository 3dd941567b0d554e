package nvlm.cuda.backend;

import java.lang.foreign.MemorySegment;
import nvlm.cuda.runtime.CachingAllocator;
import nvlm.cuda.runtime.DeviceBuffer;
import nvlm.cuda.runtime.GemmCall;
import nvlm.kernels.translator.KernelLaunch;

/**
 * Where the CUDA backend's storages live and its work runs: a GPU ({@link CudaAccelerator}), or
 * the host standing in for one ({@link SimulatedAccelerator}: the same kernels through the CPU
 * executor, the same GEMM calls through a Java model of cuBLAS), so everything above this
 * interface is tested without a GPU.
 *
 * <p>Work is queued in order on one stream; only the methods that hand data to the host wait.
 * Addresses are device addresses; {@link #view} gives a segment over device memory whose
 * {@code address()} is the device address (the kernel buffers built on it are only ever passed to
 * launches, never read on the host, except in simulation where the memory is the host's).
 */
public sealed interface Accelerator permits CudaAccelerator, SimulatedAccelerator {

    /** What runs the work, e.g. {@code NVIDIA H100 80GB HBM3 (sm_90)}. */
    String description();

    /** Memory for a storage from the caching allocator, reusable at once by later work on the stream. */
    DeviceBuffer allocate(long bytes);

    /** A segment spanning {@code bytes} of device memory from {@code address}. */
    default MemorySegment view(long address, long bytes) {
        return MemorySegment.ofAddress(address).reinterpret(bytes);
    }

    /** Queues a copy of all of {@code src} (host memory, any kind) to device address {@code dst}; src may be reused on return. */
    void copyFromHost(MemorySegment src, long dst);

    /** Copies {@code dst.byteSize()} bytes from device address {@code src} into host memory, waiting for the stream. */
    void copyToHost(long src, MemorySegment dst);

    void copyOnDevice(long dst, long src, long bytes);

    /** Sets {@code count} bytes. */
    void memset8(long dst, byte value, long count);

    /** Sets {@code count} 4-byte words (dst 4-byte aligned). */
    void memset32(long dst, int value, long count);

    /** Queues a kernel launch made by a {@code nvlm.kernels.gpu} launcher. */
    void launch(KernelLaunch launch);

    /** Queues a cuBLAS GEMM. */
    void gemm(GemmCall call);

    /** Waits for everything queued, reporting any asynchronous error. */
    void synchronize();

    /** Allocation statistics of the caching allocator. */
    CachingAllocator.Stats memoryStats();

    /** Counts of what was queued, for reports (launches per training step) and tests. */
    Activity activity();

    /** Running totals; read them before and after a region and subtract. */
    final class Activity {
        long launches;
        long gemms;
        long copies;
        long waits;

        public long launches() {
            return launches;
        }

        public long gemms() {
            return gemms;
        }

        public long copies() {
            return copies;
        }

        /** Host waits for the device (copies to the host, synchronize). */
        public long waits() {
            return waits;
        }

        public Activity snapshot() {
            Activity a = new Activity();
            a.launches = launches;
            a.gemms = gemms;
            a.copies = copies;
            a.waits = waits;
            return a;
        }

        /** This minus {@code earlier}. */
        public Activity since(Activity earlier) {
            Activity a = new Activity();
            a.launches = launches - earlier.launches;
            a.gemms = gemms - earlier.gemms;
            a.copies = copies - earlier.copies;
            a.waits = waits - earlier.waits;
            return a;
        }

        @Override
        public String toString() {
            return launches + " kernel launches, " + gemms + " GEMMs, " + copies + " copies/memsets, " + waits + " waits";
        }
    }
}
