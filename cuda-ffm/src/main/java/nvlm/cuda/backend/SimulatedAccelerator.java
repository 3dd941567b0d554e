package nvlm.cuda.backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import nvlm.cuda.runtime.CachingAllocator;
import nvlm.cuda.runtime.CudaStream;
import nvlm.cuda.runtime.DeviceBuffer;
import nvlm.cuda.runtime.GemmCall;
import nvlm.kernels.DType;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.KernelLaunch;
import nvlm.kernels.translator.LaunchConfig;

/**
 * The host standing in for a GPU: "device" memory is host memory handed out by the same
 * {@link CachingAllocator} the GPU uses (over a host driver), kernels run their Java methods
 * through the CPU executor with GPU semantics (blocks, threads, barriers, shared memory), and GEMMs
 * run the {@link ColumnMajorGemm} model of exactly the cuBLAS call the GPU would get. Fresh
 * allocations are poisoned (every byte 0xFF: NaN floats, -1 integers) so reads of unwritten
 * memory show. What this cannot check is the CUDA C translation's semantics on the GPU and the
 * driver calls themselves.
 */
public final class SimulatedAccelerator implements Accelerator {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    /** All of the address space, to read and write host memory by address (ColumnMajorGemm's view of memory). */
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private final CudaStream stream = CudaStream.wrap(1);
    private final CachingAllocator allocator = new CachingAllocator(new HostDriver());
    private final Activity activity = new Activity();
    private final Set<GpuKernel> launched = ConcurrentHashMap.newKeySet();
    private final boolean compactBlocks;

    /** Kernels run with the launch configurations the GPU gets. */
    public SimulatedAccelerator() {
        this(false);
    }

    /**
     * With {@code compactBlocks}, the kernels whose threads stride through their block's work by
     * the block size (row reductions, norms, softmax, attention: every loop steps by
     * {@code kc.lsx()} and the block reductions take any power of two) run with one warp (32
     * threads) per block instead of 128 or 256. Same results, far fewer virtual threads meeting at
     * each barrier: whole-model tests run in seconds. The kernels' own tests and the backend
     * parity checks run the GPU's configurations.
     */
    public SimulatedAccelerator(boolean compactBlocks) {
        this.compactBlocks = compactBlocks;
    }

    /** Kernels that compute the same for any power-of-two block size up to their launch's (see the constructor). */
    private static final Set<String> BLOCK_SIZE_AGNOSTIC = Set.of(
            "Softmax.forwardKernel", "Softmax.backwardKernel", "LayerNorm.forwardKernel", "LayerNorm.backwardKernel",
            "RmsNorm.forwardKernel", "RmsNorm.backwardKernel", "Attention.forwardKernel",
            "Attention.backwardQueryKernel", "Attention.backwardKeyValueKernel", "Reduce.lastAxisKernel",
            "CrossEntropy.forwardKernel");

    private static final int WARP = 32;

    @Override
    public String description() {
        return "simulated device (host memory, kernels on the CPU executor, cuBLAS model)";
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        DeviceBuffer buffer = allocator.allocate(bytes, stream);
        view(buffer.address(), buffer.byteSize()).fill((byte) 0xff);
        return buffer;
    }

    @Override
    public void copyFromHost(MemorySegment src, long dst) {
        synchronized (activity) {
            activity.copies++;
        }
        MemorySegment.copy(src, 0, view(dst, src.byteSize()), 0, src.byteSize());
    }

    @Override
    public void copyToHost(long src, MemorySegment dst) {
        synchronized (activity) {
            activity.copies++;
            activity.waits++;
        }
        MemorySegment.copy(view(src, dst.byteSize()), 0, dst, 0, dst.byteSize());
    }

    @Override
    public void copyOnDevice(long dst, long src, long bytes) {
        synchronized (activity) {
            activity.copies++;
        }
        MemorySegment.copy(view(src, bytes), 0, view(dst, bytes), 0, bytes);
    }

    @Override
    public void memset8(long dst, byte value, long count) {
        synchronized (activity) {
            activity.copies++;
        }
        view(dst, count).fill(value);
    }

    @Override
    public void memset32(long dst, int value, long count) {
        synchronized (activity) {
            activity.copies++;
        }
        MemorySegment words = view(dst, count * 4);
        for (long i = 0; i < count; i++) {
            words.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, value);
        }
    }

    /** With -Dnvlm.cuda.simulate.profile=true, host seconds and launches per kernel (what makes a test slow). */
    private static final boolean PROFILE = Boolean.getBoolean("nvlm.cuda.simulate.profile");
    private final Map<String, double[]> profile = new ConcurrentHashMap<>();

    /** Kernel name (and "GEMM") to {seconds, launches}, when profiling is on; else empty. */
    public Map<String, double[]> profile() {
        Map<String, double[]> copy = new java.util.TreeMap<>();
        profile.forEach((k, v) -> copy.put(k, v.clone()));
        return copy;
    }

    /** The kernels launched on this device so far. */
    public Set<GpuKernel> launchedKernels() {
        return Set.copyOf(launched);
    }

    @Override
    public void launch(KernelLaunch launch) {
        synchronized (activity) {
            activity.launches++;
        }
        launched.add(launch.kernel());
        long started = System.nanoTime();
        KernelLaunch run = launch;
        LaunchConfig c = launch.config();
        if (compactBlocks && c.blockX() > WARP && c.blockY() == 1 && c.blockZ() == 1
                && BLOCK_SIZE_AGNOSTIC.contains(launch.kernel().name())) {
            run = new KernelLaunch(launch.kernel(), new LaunchConfig(c.gridX(), c.gridY(), c.gridZ(), WARP, 1, 1),
                    launch.arguments());
        }
        run.runOnCpu();
        if (PROFILE) {
            double[] entry = profile.computeIfAbsent(launch.kernel().name(), k -> new double[2]);
            entry[0] += (System.nanoTime() - started) / 1e9;
            entry[1]++;
        }
    }

    @Override
    public void gemm(GemmCall call) {
        synchronized (activity) {
            activity.gemms++;
        }
        long started = System.nanoTime();
        ColumnMajorGemm.run(call, HOST_MEMORY);
        if (PROFILE) {
            double[] entry = profile.computeIfAbsent("GEMM", k -> new double[2]);
            entry[0] += (System.nanoTime() - started) / 1e9;
            entry[1]++;
        }
    }

    @Override
    public void synchronize() {
        synchronized (activity) {
            activity.waits++;
        }
    }

    @Override
    public CachingAllocator.Stats memoryStats() {
        return allocator.stats();
    }

    @Override
    public Activity activity() {
        synchronized (activity) {
            return activity.snapshot();
        }
    }

    /** Host memory by address, as ColumnMajorGemm reads and writes it. */
    static final ColumnMajorGemm.Memory HOST_MEMORY = new ColumnMajorGemm.Memory() {
        @Override
        public double read(long address, DType type, long index) {
            return switch (type) {
                case F32 -> ALL.get(F32, address + index * 4);
                case BF16 -> DType.bf16ToFloat(ALL.get(I16, address + index * 2));
                case F16 -> DType.f16ToFloat(ALL.get(I16, address + index * 2));
                default -> throw new IllegalArgumentException("GEMM input type " + type);
            };
        }

        @Override
        public void write(long address, DType type, long index, float value) {
            switch (type) {
                case F32 -> ALL.set(F32, address + index * 4, value);
                case BF16 -> ALL.set(I16, address + index * 2, DType.floatToBf16(value));
                case F16 -> ALL.set(I16, address + index * 2, DType.floatToF16(value));
                default -> throw new IllegalArgumentException("GEMM output type " + type);
            }
        }
    };

    /** malloc and free of host memory for the caching allocator; one stream, so no events. */
    private static final class HostDriver implements CachingAllocator.Driver {
        private final Map<Long, Arena> arenas = new ConcurrentHashMap<>();

        @Override
        public long malloc(long bytes) {
            Arena arena = Arena.ofShared();
            long address = arena.allocate(bytes, 256).address();
            arenas.put(address, arena);
            return address;
        }

        @Override
        public void free(long address) {
            arenas.remove(address).close();
        }

        @Override
        public void synchronize() {
        }
    }
}
