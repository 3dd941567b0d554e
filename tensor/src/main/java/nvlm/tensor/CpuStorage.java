package nvlm.tensor;

import java.lang.foreign.MemorySegment;
import nvlm.kernels.DType;

/** Storage in CPU memory: a 64-byte-aligned segment from the {@link CpuMemoryPool}. */
public final class CpuStorage extends Storage {
    private final CpuMemoryPool.Block block;
    private final MemorySegment segment;

    CpuStorage(DType dtype, long numel, CpuMemoryPool.Block block) {
        super(dtype, numel);
        this.block = block;
        this.segment = block.segment().asSlice(0, numel * dtype.byteSize());
    }

    /** The memory of this storage, exactly {@link #byteSize()} bytes. */
    public MemorySegment segment() {
        checkAlive("CPU storage access");
        return segment;
    }

    CpuMemoryPool.Block block() {
        return block;
    }

    /** The segment {@link #segment()} hands out, without the liveness check (what the Cleaner watches). */
    MemorySegment heldSegment() {
        return segment;
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    protected void free() {
        CpuMemoryPool.instance().release(block);
    }
}
