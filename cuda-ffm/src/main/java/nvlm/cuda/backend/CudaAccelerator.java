package nvlm.cuda.backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import nvlm.cuda.runtime.CachingAllocator;
import nvlm.cuda.runtime.Cublas;
import nvlm.cuda.runtime.Cuda;
import nvlm.cuda.runtime.CudaDevice;
import nvlm.cuda.runtime.CudaFunction;
import nvlm.cuda.runtime.CudaModule;
import nvlm.cuda.runtime.CudaStream;
import nvlm.cuda.runtime.DeviceBuffer;
import nvlm.cuda.runtime.GemmCall;
import nvlm.cuda.runtime.KernelCache;
import nvlm.cuda.runtime.Nvrtc;
import nvlm.kernels.gpu.GpuKernels;
import nvlm.kernels.gpu.Placeholders;
import nvlm.kernels.translator.Buffer;
import nvlm.kernels.translator.CudaKernel;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.KernelLaunch;
import nvlm.kernels.translator.LaunchConfig;

/**
 * One GPU for the CUDA backend: its primary context, one non-blocking stream on which every copy,
 * memset, kernel and GEMM is queued in order, a {@link CachingAllocator} over cuMemAlloc, one
 * cuBLAS handle bound to the stream, and every backend kernel compiled once (NVRTC, for this
 * device's architecture, through the on-disk {@link KernelCache}) and kept as a CUfunction.
 *
 * <p>Per operation the host does no allocation and no driver call beyond the work itself: kernel
 * arguments go into one reused packing buffer, GEMM scalars into cuBLAS's reused slots, and a
 * freed block is reused by the next allocation at once (stream order makes that safe, so the
 * allocator records no events). The host waits only in {@link #copyToHost} and
 * {@link #synchronize}. {@code -Dnvlm.cuda.syncEachOp=true} waits after every operation instead,
 * so an asynchronous fault is reported by the operation that caused it.
 *
 * <p>Thread use: calls are serialised on this object; any thread may call (the context is made
 * current on first use). Memory may be released from any thread (the GC's cleaner included): a
 * release makes no CUDA call.
 */
public final class CudaAccelerator implements Accelerator {
    /** Most arguments a kernel takes (the converting copy: 33). */
    private static final int MAX_ARGS = 64;

    private final CudaDevice device;
    private final CudaStream stream;
    private final CachingAllocator allocator;
    private final Cublas cublas;
    private final String arch;
    private final boolean syncEachOp;
    private final Map<GpuKernel, CudaFunction> functions = new ConcurrentHashMap<>();
    private final Map<GpuKernel, RuntimeException> failures = new ConcurrentHashMap<>();
    private final List<CudaModule> modules = new ArrayList<>();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment slots = arena.allocate(8L * MAX_ARGS, 8);
    private final MemorySegment params = arena.allocate(ValueLayout.ADDRESS, MAX_ARGS);
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);
    private final Activity activity = new Activity();
    private final double compileSeconds;

    private CudaAccelerator(CudaDevice device, CudaStream stream, Cublas cublas) {
        this.device = device;
        this.stream = stream;
        this.cublas = cublas;
        this.allocator = CachingAllocator.onStream(stream);
        this.arch = device.arch();
        this.syncEachOp = Boolean.getBoolean("nvlm.cuda.syncEachOp");
        for (int i = 0; i < MAX_ARGS; i++) {
            params.setAtIndex(ValueLayout.ADDRESS, i, slots.asSlice(8L * i, 8));
        }
        current.set(true);
        long started = System.nanoTime();
        compileAll();
        this.compileSeconds = (System.nanoTime() - started) / 1e9;
    }

    /**
     * Opens the default device ({@code -Dnvlm.cuda.device}, else 0) and compiles the backend's
     * kernels. Without a driver this throws the loader's message listing every place searched.
     */
    public static CudaAccelerator open() {
        Cuda.init();
        CudaDevice device = CudaDevice.open();
        CudaStream stream = CudaStream.create();
        Cublas cublas = Cublas.create(stream);
        return new CudaAccelerator(device, stream, cublas);
    }

    @Override
    public String description() {
        return device.name() + " (" + arch + ")";
    }

    /** Seconds spent compiling (or loading from the disk cache) every kernel at start. */
    public double compileSeconds() {
        return compileSeconds;
    }

    public CudaDevice device() {
        return device;
    }

    public CudaStream stream() {
        return stream;
    }

    /** Makes the device's context current on the calling thread (for driver calls made outside this class, e.g. events). */
    public void makeCurrent() {
        ensureCurrent();
    }

    private void ensureCurrent() {
        if (!current.get()) {
            device.makeCurrent();
            current.set(true);
        }
    }

    // ------------------------------------------------------------------ kernels

    /**
     * Compiles every backend kernel: NVRTC runs in parallel (each program is independent; NVRTC
     * allows concurrent compiles of different programs), images are cached on disk, then the
     * modules are loaded here in order. A kernel that fails to compile or load does not stop the
     * others: its failure is kept ({@link #compileFailures}) and thrown by its first launch.
     */
    private void compileAll() {
        Nvrtc.Target target = Nvrtc.target(device);
        KernelCache cache = KernelCache.standard();
        List<GpuKernel> kernels = GpuKernels.all();
        int threads = Math.max(1, Math.min(16, Runtime.getRuntime().availableProcessors()));
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "nvrtc-compile");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<byte[]>> images = new ArrayList<>();
            for (GpuKernel kernel : kernels) {
                images.add(pool.submit(() -> image(kernel, target, cache)));
            }
            for (int i = 0; i < kernels.size(); i++) {
                GpuKernel kernel = kernels.get(i);
                try {
                    load(kernel, images.get(i).get());
                } catch (ExecutionException e) {
                    failures.put(kernel, e.getCause() instanceof RuntimeException r ? r
                            : new IllegalStateException("compiling " + kernel.name() + ": " + e.getCause(), e.getCause()));
                } catch (RuntimeException e) {
                    failures.put(kernel, e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while compiling the CUDA backend's kernels", e);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private byte[] image(GpuKernel kernel, Nvrtc.Target target, KernelCache cache) {
        CudaKernel cuda = kernel.cuda(arch);
        return Nvrtc.image(cuda.source(), cuda.entryName() + ".cu", target, cache);
    }

    private CudaFunction load(GpuKernel kernel, byte[] image) {
        CudaKernel cuda = kernel.cuda(arch);
        CudaModule module = CudaModule.load(image, cuda.entryName());
        synchronized (modules) {
            modules.add(module);
        }
        CudaFunction function = module.function(cuda.entryName());
        functions.put(kernel, function);
        return function;
    }

    /** Kernels that failed to compile or load at start, with the error (NVRTC's log in its message). */
    public Map<String, String> compileFailures() {
        Map<String, String> out = new java.util.TreeMap<>();
        failures.forEach((k, e) -> out.put(k.name(), String.valueOf(e.getMessage())));
        return out;
    }

    /** A kernel outside {@link GpuKernels} (a test's, say): compiled on first launch. */
    private CudaFunction function(GpuKernel kernel) {
        CudaFunction f = functions.get(kernel);
        if (f == null) {
            RuntimeException failed = failures.get(kernel);
            if (failed != null) {
                throw new IllegalStateException("kernel " + kernel.name() + " did not compile for " + arch + ": "
                        + failed.getMessage(), failed);
            }
            f = load(kernel, image(kernel, Nvrtc.target(device), KernelCache.standard()));
        }
        return f;
    }

    /**
     * Writes each argument of a launch into its 8-byte slot of {@code slots}, as cuLaunchKernel
     * reads them (the driver takes each parameter's size from the kernel image): buffers as their
     * device address (placeholders, which hold no tensor, as a null pointer), int-sized values
     * (boolean, byte, short, char, int) as 4-byte ints, long, float and double as themselves.
     */
    static void packArguments(KernelLaunch launch, MemorySegment slots) {
        List<Object> arguments = launch.arguments();
        if (arguments.size() > slots.byteSize() / 8) {
            throw new IllegalArgumentException(launch + ": " + arguments.size() + " arguments, at most "
                    + slots.byteSize() / 8);
        }
        for (int i = 0; i < arguments.size(); i++) {
            long at = 8L * i;
            switch (arguments.get(i)) {
                case Buffer b -> slots.set(ValueLayout.JAVA_LONG, at, Placeholders.is(b) ? 0L : b.segment().address());
                case Integer v -> slots.set(ValueLayout.JAVA_INT, at, v);
                case Long v -> slots.set(ValueLayout.JAVA_LONG, at, v);
                case Float v -> slots.set(ValueLayout.JAVA_FLOAT, at, v);
                case Double v -> slots.set(ValueLayout.JAVA_DOUBLE, at, v);
                case Boolean v -> slots.set(ValueLayout.JAVA_INT, at, v ? 1 : 0);
                case Byte v -> slots.set(ValueLayout.JAVA_INT, at, v);
                case Short v -> slots.set(ValueLayout.JAVA_INT, at, v);
                case Character v -> slots.set(ValueLayout.JAVA_INT, at, v);
                default -> throw new IllegalArgumentException(launch + ": argument " + i + " of type "
                        + arguments.get(i).getClass().getName() + " cannot be passed to a kernel");
            }
        }
    }

    @Override
    public synchronized void launch(KernelLaunch launch) {
        ensureCurrent();
        CudaFunction function = function(launch.kernel());
        packArguments(launch, slots);
        LaunchConfig c = launch.config();
        function.launch(c.gridX(), c.gridY(), c.gridZ(), c.blockX(), c.blockY(), c.blockZ(), stream, params);
        activity.launches++;
        afterOperation(launch.toString());
    }

    // ------------------------------------------------------------------ GEMM

    @Override
    public synchronized void gemm(GemmCall g) {
        ensureCurrent();
        cublas.gemm(g);
        activity.gemms++;
        afterOperation("GEMM " + g);
    }

    // ------------------------------------------------------------------ memory

    @Override
    public synchronized DeviceBuffer allocate(long bytes) {
        ensureCurrent();
        return allocator.allocate(bytes, stream);
    }

    @Override
    public synchronized void copyFromHost(MemorySegment src, long dst) {
        ensureCurrent();
        if (src.byteSize() == 0) {
            return;
        }
        stream.copyFromHost(src, dst);
        activity.copies++;
        afterOperation("copy from host");
    }

    @Override
    public synchronized void copyToHost(long src, MemorySegment dst) {
        ensureCurrent();
        activity.copies++;
        activity.waits++;
        if (dst.byteSize() == 0) {
            stream.synchronize();
            return;
        }
        stream.copyToHost(src, dst);
    }

    @Override
    public synchronized void copyOnDevice(long dst, long src, long bytes) {
        ensureCurrent();
        stream.copyOnDevice(dst, src, bytes);
        activity.copies++;
        afterOperation("device copy");
    }

    @Override
    public synchronized void memset8(long dst, byte value, long count) {
        ensureCurrent();
        stream.memset8(dst, value, count);
        activity.copies++;
        afterOperation("memset");
    }

    @Override
    public synchronized void memset32(long dst, int value, long count) {
        ensureCurrent();
        stream.memset32(dst, value, count);
        activity.copies++;
        afterOperation("memset");
    }

    @Override
    public synchronized void synchronize() {
        ensureCurrent();
        activity.waits++;
        stream.synchronize();
    }

    private void afterOperation(String what) {
        if (syncEachOp) {
            stream.synchronizeAfter(what);
        }
    }

    @Override
    public CachingAllocator.Stats memoryStats() {
        return allocator.stats();
    }

    /** Frees every cached block (waits for the device). */
    public synchronized void emptyCache() {
        ensureCurrent();
        allocator.emptyCache();
    }

    @Override
    public synchronized Activity activity() {
        return activity.snapshot();
    }
}
