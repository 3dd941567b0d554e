package nvlm.cuda.backend;

import java.lang.foreign.MemorySegment;
import nvlm.cuda.runtime.DeviceBuffer;
import nvlm.kernels.DType;
import nvlm.tensor.Device;
import nvlm.tensor.Storage;

/**
 * Tensor memory on a CUDA device: a block of the {@link Accelerator}'s caching allocator, returned
 * to it when the owning {@link nvlm.tensor.MemoryScope} closes or, for storages made outside any
 * scope, when the storage becomes unreachable (a cleaner closes the block; closing makes no CUDA
 * call, so the cleaner thread may do it).
 */
public final class CudaStorage extends Storage {
    private final Accelerator accelerator;
    private final DeviceBuffer buffer;
    private final MemorySegment memory;

    CudaStorage(DType dtype, long numel, Accelerator accelerator, DeviceBuffer buffer) {
        super(dtype, numel);
        this.accelerator = accelerator;
        this.buffer = buffer;
        this.memory = accelerator.view(buffer.address(), numel * dtype.byteSize());
    }

    @Override
    public Device device() {
        return Device.CUDA;
    }

    /** The accelerator holding the memory (and running the work on it). */
    public Accelerator accelerator() {
        return accelerator;
    }

    /** The device address of element 0. */
    public long address() {
        checkAlive("CUDA storage access");
        return memory.address();
    }

    /** A segment over the device memory (its address is the device address; never read it on the host of a GPU). */
    MemorySegment memory() {
        checkAlive("CUDA storage access");
        return memory;
    }

    DeviceBuffer buffer() {
        return buffer;
    }

    @Override
    protected void free() {
        buffer.close();
    }
}
