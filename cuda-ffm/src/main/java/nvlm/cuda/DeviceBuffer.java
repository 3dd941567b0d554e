package nvlm.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

import static nvlm.cuda.bindings.cuda_h.*;

/**
 * A range of device memory: address and size. Owned buffers free their memory (or return it to
 * the {@link CachingAllocator} that made them) when closed, never through the garbage collector;
 * {@link #slice} and {@link #wrap} make views that own nothing.
 *
 * <p>Copies take host {@link MemorySegment}s. Synchronous copies accept heap segments (staged
 * through native memory); asynchronous ones need native memory, ideally a {@link PinnedBuffer},
 * which must stay alive until the stream has run the copy.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final long address;
    private final long byteSize;
    private final Consumer<DeviceBuffer> release;
    private boolean closed;

    DeviceBuffer(long address, long byteSize, Consumer<DeviceBuffer> release) {
        this.address = address;
        this.byteSize = byteSize;
        this.release = release;
    }

    /** Device memory straight from cuMemAlloc_v2, freed by close. */
    public static DeviceBuffer allocate(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("device buffer size must be positive, got " + bytes);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pointer = arena.allocate(C_LONG_LONG);
            CudaDriverException.check(cuMemAlloc_v2(pointer, bytes), "cuMemAlloc_v2(" + bytes + " bytes)");
            return new DeviceBuffer(pointer.get(C_LONG_LONG, 0), bytes,
                    b -> CudaDriverException.check(cuMemFree_v2(b.address), "cuMemFree_v2"));
        }
    }

    /** A view of device memory owned elsewhere. */
    public static DeviceBuffer wrap(long address, long byteSize) {
        return new DeviceBuffer(address, byteSize, null);
    }

    /** The device address (CUdeviceptr), e.g. to pass as a kernel argument. */
    public long address() {
        if (closed) {
            throw new IllegalStateException("device buffer 0x" + Long.toHexString(address) + " (" + byteSize
                    + " bytes) is closed");
        }
        return address;
    }

    public long byteSize() {
        return byteSize;
    }

    public boolean isClosed() {
        return closed;
    }

    /** A view of {@code bytes} bytes from {@code offset}; it owns nothing and is valid while this buffer is. */
    public DeviceBuffer slice(long offset, long bytes) {
        checkRange("slice", offset, bytes);
        return new DeviceBuffer(address() + offset, bytes, null);
    }

    public void copyFrom(MemorySegment host) {
        checkRange("copyFrom(host)", 0, host.byteSize());
        if (host.isNative()) {
            CudaDriverException.check(cuMemcpyHtoD_v2(address(), host, host.byteSize()), "cuMemcpyHtoD_v2");
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            copyFrom(arena.allocate(host.byteSize(), 16).copyFrom(host));
        }
    }

    public void copyTo(MemorySegment host) {
        checkRange("copyTo(host)", 0, host.byteSize());
        if (host.isNative()) {
            CudaDriverException.check(cuMemcpyDtoH_v2(host, address(), host.byteSize()), "cuMemcpyDtoH_v2");
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = arena.allocate(host.byteSize(), 16);
            copyTo(staging);
            host.copyFrom(staging);
        }
    }

    /** Queues a host-to-device copy of all of {@code host} (native memory) on {@code stream}. */
    public void copyFromAsync(MemorySegment host, CudaStream stream) {
        checkRange("copyFromAsync", 0, host.byteSize());
        requireNative(host, "copyFromAsync");
        CudaDriverException.check(cuMemcpyHtoDAsync_v2(address(), host, host.byteSize(), stream.handle()),
                "cuMemcpyHtoDAsync_v2");
    }

    /** Queues a device-to-host copy filling {@code host} (native memory) on {@code stream}. */
    public void copyToAsync(MemorySegment host, CudaStream stream) {
        checkRange("copyToAsync", 0, host.byteSize());
        requireNative(host, "copyToAsync");
        CudaDriverException.check(cuMemcpyDtoHAsync_v2(host, address(), host.byteSize(), stream.handle()),
                "cuMemcpyDtoHAsync_v2");
    }

    /** Copies all of {@code source} to the start of this buffer. */
    public void copyFrom(DeviceBuffer source) {
        checkRange("copyFrom(device)", 0, source.byteSize());
        CudaDriverException.check(cuMemcpyDtoD_v2(address(), source.address(), source.byteSize()), "cuMemcpyDtoD_v2");
    }

    public void copyFromAsync(DeviceBuffer source, CudaStream stream) {
        checkRange("copyFromAsync(device)", 0, source.byteSize());
        CudaDriverException.check(cuMemcpyDtoDAsync_v2(address(), source.address(), source.byteSize(),
                stream.handle()), "cuMemcpyDtoDAsync_v2");
    }

    /** Sets every byte to {@code value}. */
    public void fill(byte value) {
        CudaDriverException.check(cuMemsetD8_v2(address(), value, byteSize), "cuMemsetD8_v2");
    }

    public void fillAsync(byte value, CudaStream stream) {
        CudaDriverException.check(cuMemsetD8Async(address(), value, byteSize, stream.handle()), "cuMemsetD8Async");
    }

    /** Sets every 4-byte word to {@code bits} (e.g. {@code Float.floatToIntBits(1f)}); the size must be a multiple of 4. */
    public void fill32(int bits) {
        CudaDriverException.check(cuMemsetD32_v2(address(), bits, words()), "cuMemsetD32_v2");
    }

    public void fill32Async(int bits, CudaStream stream) {
        CudaDriverException.check(cuMemsetD32Async(address(), bits, words(), stream.handle()), "cuMemsetD32Async");
    }

    private long words() {
        if (byteSize % 4 != 0) {
            throw new IllegalArgumentException("fill32 needs a size that is a multiple of 4 bytes, got " + byteSize);
        }
        return byteSize / 4;
    }

    private void checkRange(String what, long offset, long bytes) {
        if (offset < 0 || bytes < 0 || offset + bytes > byteSize) {
            throw new IndexOutOfBoundsException(what + ": " + bytes + " bytes at offset " + offset
                    + " do not fit a device buffer of " + byteSize + " bytes");
        }
    }

    private static void requireNative(MemorySegment host, String what) {
        if (!host.isNative()) {
            throw new IllegalArgumentException(what + " needs native host memory (a PinnedBuffer or an Arena"
                    + " segment), got a heap segment: the copy runs after the call returns");
        }
    }

    /** Frees the memory or returns it to its allocator; views only become unusable. Idempotent. */
    @Override
    public void close() {
        Consumer<DeviceBuffer> action;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            action = release;
        }
        if (action != null) {
            action.accept(this);
        }
    }

    /** The address even after close, for the allocator's bookkeeping. */
    long rawAddress() {
        return address;
    }

    @Override
    public String toString() {
        return "DeviceBuffer[0x" + Long.toHexString(address) + ", " + byteSize + " bytes" + (closed ? ", closed" : "")
                + "]";
    }
}
