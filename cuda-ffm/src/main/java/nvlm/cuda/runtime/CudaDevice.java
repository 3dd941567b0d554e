package nvlm.cuda.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static nvlm.cuda.bindings.cuda_h.*;

/**
 * One GPU with its primary context retained (the context the CUDA runtime and PyTorch share).
 * Opening makes the context current on the calling thread; other threads that use the device call
 * {@link #makeCurrent()} first. Closing releases the primary context once.
 */
public final class CudaDevice implements AutoCloseable {
    private final int ordinal;
    private final int handle;
    private final MemorySegment context;
    private final String name;
    private boolean closed;

    private CudaDevice(int ordinal, int handle, MemorySegment context, String name) {
        this.ordinal = ordinal;
        this.handle = handle;
        this.context = context;
        this.name = name;
    }

    /** Device 0, or the ordinal in {@code -Dnvlm.cuda.device} / {@code NVLM_CUDA_DEVICE}. */
    public static CudaDevice open() {
        String chosen = System.getProperty("nvlm.cuda.device", System.getenv("NVLM_CUDA_DEVICE"));
        return open(chosen == null || chosen.isBlank() ? 0 : Integer.parseInt(chosen.strip()));
    }

    public static CudaDevice open(int ordinal) {
        Cuda.init();
        int count = Cuda.deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new IllegalArgumentException("CUDA device ordinal " + ordinal + " out of range: " + count
                    + " device(s)");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = arena.allocate(C_INT);
            CudaDriverException.check(cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
            int handle = device.get(C_INT, 0);
            MemorySegment nameBuffer = arena.allocate(256);
            CudaDriverException.check(cuDeviceGetName(nameBuffer, 256, handle), "cuDeviceGetName");
            MemorySegment context = arena.allocate(C_POINTER);
            CudaDriverException.check(cuDevicePrimaryCtxRetain(context, handle),
                    "cuDevicePrimaryCtxRetain(device " + ordinal + ")");
            var opened = new CudaDevice(ordinal, handle, context.get(C_POINTER, 0), nameBuffer.getString(0));
            opened.makeCurrent();
            return opened;
        }
    }

    /** Makes this device's primary context current on the calling thread. */
    public void makeCurrent() {
        checkOpen();
        CudaDriverException.check(cuCtxSetCurrent(context), "cuCtxSetCurrent(device " + ordinal + ")");
    }

    public int ordinal() {
        return ordinal;
    }

    public String name() {
        return name;
    }

    /** A {@code CU_DEVICE_ATTRIBUTE_*} value. */
    private int attribute(int attribute) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(C_INT);
            CudaDriverException.check(cuDeviceGetAttribute(value, attribute, handle),
                    "cuDeviceGetAttribute(" + attribute + ", device " + ordinal + ")");
            return value.get(C_INT, 0);
        }
    }

    public int computeCapabilityMajor() {
        return attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR());
    }

    public int computeCapabilityMinor() {
        return attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR());
    }

    /** The real architecture NVRTC compiles for, e.g. {@code sm_90} on an H100. */
    public String arch() {
        return "sm_" + computeCapabilityMajor() + computeCapabilityMinor();
    }

    public long totalMemory() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocate(C_LONG);
            CudaDriverException.check(cuDeviceTotalMem_v2(bytes, handle), "cuDeviceTotalMem_v2");
            return bytes.get(C_LONG, 0);
        }
    }

    /** Free and total device memory in bytes, as the driver sees it now. */
    public record MemoryInfo(long free, long total) {
    }

    public MemoryInfo memoryInfo() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(C_LONG);
            MemorySegment total = arena.allocate(C_LONG);
            CudaDriverException.check(cuMemGetInfo_v2(free, total), "cuMemGetInfo_v2");
            return new MemoryInfo(free.get(C_LONG, 0), total.get(C_LONG, 0));
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("CUDA device " + ordinal + " (" + name + ") is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            CudaDriverException.check(cuDevicePrimaryCtxRelease_v2(handle), "cuDevicePrimaryCtxRelease_v2");
        }
    }

    @Override
    public String toString() {
        return "CudaDevice[" + ordinal + ": " + name + "]";
    }
}
