package nvlm.tensor;

import nvlm.kernels.DType;

/**
 * A flat buffer of {@link #numel()} elements of one dtype on one device. Tensors are strided views
 * of a storage. Memory is released deterministically when the {@link MemoryScope} that owns the
 * storage closes (or when it becomes unreachable, for storages made outside any scope).
 */
public abstract class Storage {
    private final DType dtype;
    private final long numel;
    private volatile boolean released;
    MemoryScope scope;

    protected Storage(DType dtype, long numel) {
        this.dtype = dtype;
        this.numel = numel;
    }

    public abstract Device device();

    public final DType dtype() {
        return dtype;
    }

    public final long numel() {
        return numel;
    }

    public final long byteSize() {
        return numel * dtype.byteSize();
    }

    /** The scope that releases this storage, or null when the GC does. */
    public final MemoryScope scope() {
        return scope;
    }

    public final boolean isReleased() {
        return released;
    }

    /** Fails clearly instead of touching released memory. */
    public final void checkAlive(String what) {
        if (released) {
            throw new IllegalStateException(what + ": the tensor's memory was released when its MemoryScope closed;"
                    + " create it in an outer scope or MemoryScope.escape(...) it");
        }
    }

    /** Returns the memory to its device's pool. Idempotent. */
    final void release() {
        if (!released) {
            released = true;
            free();
        }
    }

    /** Device-specific release; called at most once. */
    protected abstract void free();
}
