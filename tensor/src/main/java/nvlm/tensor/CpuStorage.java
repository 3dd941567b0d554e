package nvlm.tensor;

import java.lang.foreign.MemorySegment;
import nvlm.kernels.DType;

/**
 * Storage in CPU memory: a 64-byte-aligned segment from the {@link CpuMemoryPool}, memory owned
 * elsewhere (a memory-mapped checkpoint, {@link Tensor#mapped}), or no memory at all (a model
 * skeleton's parameters, {@link Tensor#shapeOnly}), which fails clearly when read.
 */
public final class CpuStorage extends Storage {
    private final CpuMemoryPool.Block block;
    private final MemorySegment segment;

    CpuStorage(DType dtype, long numel, CpuMemoryPool.Block block) {
        super(dtype, numel);
        this.block = block;
        this.segment = block.segment().asSlice(0, numel * dtype.byteSize());
    }

    /** A view of {@code external} (exactly numel elements), or no memory when it is null; never returned to the pool. */
    CpuStorage(DType dtype, long numel, MemorySegment external) {
        super(dtype, numel);
        this.block = null;
        this.segment = external;
    }

    /** Whether the memory is owned elsewhere (mapped) rather than by the pool. */
    public boolean isExternal() {
        return block == null;
    }

    /** The memory of this storage, exactly {@link #byteSize()} bytes. */
    public MemorySegment segment() {
        checkAlive("CPU storage access");
        if (segment == null) {
            throw new IllegalStateException("tensor " + dtype() + " of " + numel() + " elements has shape only, no memory:"
                    + " it belongs to a model skeleton (Init.shapesOnly) whose weights were never loaded");
        }
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
        if (block != null) {
            CpuMemoryPool.instance().release(block);
        }
    }
}
