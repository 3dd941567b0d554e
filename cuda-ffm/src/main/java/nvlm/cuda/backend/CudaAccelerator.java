package nvlm.cuda.backend;

import static nvlm.cuda.bindings.cuda_h.CUDA_ERROR_OUT_OF_MEMORY;
import static nvlm.cuda.bindings.cuda_h.C_LONG_LONG;
import static nvlm.cuda.bindings.cuda_h.cuCtxSynchronize;
import static nvlm.cuda.bindings.cuda_h.cuMemAlloc_v2;
import static nvlm.cuda.bindings.cuda_h.cuMemFree_v2;
import static nvlm.cuda.bindings.cuda_h.cuMemcpyDtoDAsync_v2;
import static nvlm.cuda.bindings.cuda_h.cuMemcpyDtoHAsync_v2;
import static nvlm.cuda.bindings.cuda_h.cuMemcpyHtoDAsync_v2;
import static nvlm.cuda.bindings.cuda_h.cuMemsetD32Async;
import static nvlm.cuda.bindings.cuda_h.cuMemsetD8Async;
import static nvlm.cuda.bindings.cuda_h.cuStreamSynchronize;
import static nvlm.cuda.bindings.cublas_api_h.CUBLAS_OP_N;
import static nvlm.cuda.bindings.cublas_api_h.CUBLAS_OP_T;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import nvlm.cuda.CachingAllocator;
import nvlm.cuda.Cublas;
import nvlm.cuda.Cuda;
import nvlm.cuda.CudaDevice;
import nvlm.cuda.CudaDriverException;
import nvlm.cuda.DriverMemory;
import nvlm.cuda.CudaKernel;
import nvlm.cuda.CudaModule;
import nvlm.cuda.CudaStream;
import nvlm.cuda.DeviceBuffer;
import nvlm.cuda.GemmCompute;
import nvlm.cuda.KernelCache;
import nvlm.cuda.Nvrtc;
import nvlm.kernels.DType;
import nvlm.kernels.gpu.GpuKernels;
import nvlm.kernels.gpu.Placeholders;
import nvlm.kernels.translator.Buffer;
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
    /** Most arguments a kernel takes (the typed copy: 33). */
    private static final int MAX_ARGS = 64;

    private final CudaDevice device;
    private final CudaStream stream;
    private final CachingAllocator allocator;
    private final Cublas cublas;
    private final String arch;
    private final boolean syncEachOp;
    private final Map<GpuKernel, CudaKernel> functions = new ConcurrentHashMap<>();
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
        this.allocator = new CachingAllocator(new StreamOrderedMemory(stream.address()));
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

    public Cublas cublas() {
        return cublas;
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

    /** NVRTC options and target for this device; the kernel cache keys on both. */
    private record Target(String arch, List<String> options, String nvrtcVersion) {
    }

    private Target target() {
        int cc = 10 * device.computeCapabilityMajor() + device.computeCapabilityMinor();
        String nvrtcArch = Nvrtc.target(cc, Nvrtc.supportedArchs());
        int[] v = Nvrtc.version();
        return new Target(nvrtcArch, Nvrtc.options(nvrtcArch, List.of()), v[0] + "." + v[1]);
    }

    /**
     * Compiles every backend kernel: NVRTC runs in parallel (each program is independent; NVRTC
     * allows concurrent compiles of different programs), images are cached on disk, then the
     * modules are loaded here in order. A kernel that fails to compile or load does not stop the
     * others: its failure is kept ({@link #compileFailures}) and thrown by its first launch.
     */
    private void compileAll() {
        Target target = target();
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
                } catch (java.util.concurrent.ExecutionException e) {
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

    private byte[] image(GpuKernel kernel, Target target, KernelCache cache) {
        nvlm.kernels.translator.CudaKernel cuda = kernel.cuda(arch);
        String key = KernelCache.key(cuda.source(), target.options(), target.nvrtcVersion(), target.arch());
        Optional<byte[]> cached = cache.load(key);
        if (cached.isPresent()) {
            return cached.get();
        }
        Nvrtc.Output output = Nvrtc.compile(cuda.source(), cuda.entryName() + ".cu", target.options());
        try {
            cache.store(key, output.image());
        } catch (IOException e) {
            System.err.println("nvlm: kernel cache not written (compiling again next time): " + e.getMessage());
        }
        return output.image();
    }

    private CudaKernel load(GpuKernel kernel, byte[] image) {
        nvlm.kernels.translator.CudaKernel cuda = kernel.cuda(arch);
        CudaModule module = CudaModule.load(image, cuda.entryName());
        synchronized (modules) {
            modules.add(module);
        }
        CudaKernel function = module.kernel(cuda.entryName());
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
    private CudaKernel function(GpuKernel kernel) {
        CudaKernel f = functions.get(kernel);
        if (f == null) {
            RuntimeException failed = failures.get(kernel);
            if (failed != null) {
                throw new IllegalStateException("kernel " + kernel.name() + " did not compile for " + arch + ": "
                        + failed.getMessage(), failed);
            }
            f = load(kernel, image(kernel, target(), KernelCache.standard()));
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
        CudaKernel function = function(launch.kernel());
        packArguments(launch, slots);
        LaunchConfig c = launch.config();
        function.launchPacked(c.gridX(), c.gridY(), c.gridZ(), c.blockX(), c.blockY(), c.blockZ(), stream.handle(), params);
        activity.launches++;
        afterOperation(launch.toString());
    }

    // ------------------------------------------------------------------ GEMM

    @Override
    public synchronized void gemm(GemmCall g) {
        ensureCurrent();
        GemmCompute mode = g.tf32() && g.inputType() == DType.F32 ? GemmCompute.TF32 : GemmCompute.F32;
        int compute = mode.cublasComputeType(g.inputType());
        cublas.gemmColumnMajor(g.transA() ? CUBLAS_OP_T() : CUBLAS_OP_N(), g.transB() ? CUBLAS_OP_T() : CUBLAS_OP_N(),
                g.m(), g.n(), g.k(), g.alpha(), g.a(), g.inputType(), g.lda(), g.strideA(), g.b(), g.ldb(), g.strideB(),
                g.beta(), g.c(), DType.F32, g.ldc(), g.strideC(), g.batch(), compute);
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
        long bytes = src.byteSize();
        if (bytes == 0) {
            return;
        }
        // From pageable memory the driver stages the bytes before returning, so src (or the
        // temporary copy of a heap segment) may be reused at once.
        if (src.isNative()) {
            CudaDriverException.check(cuMemcpyHtoDAsync_v2(dst, src, bytes, stream.handle()), "cuMemcpyHtoDAsync_v2("
                    + bytes + " bytes)");
        } else {
            try (Arena staging = Arena.ofConfined()) {
                MemorySegment copy = staging.allocate(bytes, 16).copyFrom(src);
                CudaDriverException.check(cuMemcpyHtoDAsync_v2(dst, copy, bytes, stream.handle()), "cuMemcpyHtoDAsync_v2("
                        + bytes + " bytes)");
            }
        }
        activity.copies++;
        afterOperation("copy from host");
    }

    @Override
    public synchronized void copyToHost(long src, MemorySegment dst) {
        ensureCurrent();
        long bytes = dst.byteSize();
        activity.copies++;
        activity.waits++;
        if (bytes == 0) {
            synchronize();
            return;
        }
        if (dst.isNative()) {
            CudaDriverException.check(cuMemcpyDtoHAsync_v2(dst, src, bytes, stream.handle()), "cuMemcpyDtoHAsync_v2("
                    + bytes + " bytes)");
            CudaDriverException.check(cuStreamSynchronize(stream.handle()), "cuStreamSynchronize after a copy to the host");
        } else {
            try (Arena staging = Arena.ofConfined()) {
                MemorySegment copy = staging.allocate(bytes, 16);
                CudaDriverException.check(cuMemcpyDtoHAsync_v2(copy, src, bytes, stream.handle()), "cuMemcpyDtoHAsync_v2("
                        + bytes + " bytes)");
                CudaDriverException.check(cuStreamSynchronize(stream.handle()), "cuStreamSynchronize after a copy to the host");
                dst.copyFrom(copy);
            }
        }
    }

    @Override
    public synchronized void copyOnDevice(long dst, long src, long bytes) {
        ensureCurrent();
        CudaDriverException.check(cuMemcpyDtoDAsync_v2(dst, src, bytes, stream.handle()), "cuMemcpyDtoDAsync_v2(" + bytes
                + " bytes)");
        activity.copies++;
        afterOperation("device copy");
    }

    @Override
    public synchronized void memset8(long dst, byte value, long count) {
        ensureCurrent();
        CudaDriverException.check(cuMemsetD8Async(dst, value, count, stream.handle()), "cuMemsetD8Async(" + count + ")");
        activity.copies++;
        afterOperation("memset");
    }

    @Override
    public synchronized void memset32(long dst, int value, long count) {
        ensureCurrent();
        CudaDriverException.check(cuMemsetD32Async(dst, value, count, stream.handle()), "cuMemsetD32Async(" + count + ")");
        activity.copies++;
        afterOperation("memset");
    }

    @Override
    public synchronized void synchronize() {
        ensureCurrent();
        activity.waits++;
        CudaDriverException.check(cuStreamSynchronize(stream.handle()), "cuStreamSynchronize");
    }

    private void afterOperation(String what) {
        if (syncEachOp) {
            CudaDriverException.check(cuStreamSynchronize(stream.handle()), "cuStreamSynchronize after " + what);
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

    /**
     * cuMemAlloc and cuMemFree for the caching allocator. Everything runs on one stream, so a
     * freed block is safe for the next allocation at once: no event is recorded (a release then
     * makes no CUDA call, so the GC's cleaner thread may release memory).
     */
    private static final class StreamOrderedMemory implements CachingAllocator.Driver {
        private final long stream;

        StreamOrderedMemory(long stream) {
            this.stream = stream;
        }

        @Override
        public long malloc(long bytes) {
            return DriverMemory.allocate(bytes);
        }

        @Override
        public void free(long address) {
            DriverMemory.release(address);
        }

        @Override
        public long recordEvent(long freedOn) {
            if (freedOn != stream) {
                throw new IllegalStateException("the CUDA backend allocates on one stream only, got a free on 0x"
                        + Long.toHexString(freedOn));
            }
            return 0;
        }

        @Override
        public boolean eventDone(long event) {
            return true;
        }

        @Override
        public void destroyEvent(long event) {
        }

        @Override
        public void synchronize() {
            CudaDriverException.check(cuCtxSynchronize(), "cuCtxSynchronize");
        }
    }
}
