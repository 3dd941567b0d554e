package nvlm.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static nvlm.cuda.bindings.cuda_h.*;

/** A kernel (CUfunction) of a loaded {@link CudaModule}, launched with cuLaunchKernel. */
public final class CudaKernel {
    /** Dynamic shared memory a launch gets without opting in (the per-block default, 48 KiB). */
    public static final int DEFAULT_DYNAMIC_SHARED_LIMIT = 48 * 1024;

    private final MemorySegment function;
    private final String name;
    private int dynamicSharedLimit = DEFAULT_DYNAMIC_SHARED_LIMIT;

    CudaKernel(MemorySegment function, String name) {
        this.function = function;
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** Launches with the arguments mapped by {@link KernelArgs#of}. */
    public void launch(Dim3 grid, Dim3 block, int sharedMemoryBytes, CudaStream stream, Object... args) {
        launch(grid, block, sharedMemoryBytes, stream, KernelArgs.of(args));
    }

    /**
     * Queues the kernel on {@code stream}. A launch asking for more than 48 KiB of dynamic shared
     * memory first raises the kernel's MAX_DYNAMIC_SHARED_SIZE_BYTES (REFERENCE.md section 2); the
     * device's opt-in limit minus the kernel's static shared memory is the most it can be.
     */
    public void launch(Dim3 grid, Dim3 block, int sharedMemoryBytes, CudaStream stream, KernelArgs args) {
        if (sharedMemoryBytes < 0) {
            throw new IllegalArgumentException("shared memory for " + name + " must not be negative: "
                    + sharedMemoryBytes);
        }
        if (sharedMemoryBytes > dynamicSharedLimit) {
            setAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES(), sharedMemoryBytes);
            dynamicSharedLimit = sharedMemoryBytes;
        }
        try (Arena arena = Arena.ofConfined()) {
            int result = cuLaunchKernel(function, grid.x(), grid.y(), grid.z(), block.x(), block.y(), block.z(),
                    sharedMemoryBytes, stream.handle(), args.pack(arena), MemorySegment.NULL);
            if (result != CUDA_SUCCESS()) {
                throw CudaDriverException.of(result, "cuLaunchKernel(" + name + ", grid " + grid + ", block " + block
                        + ", shared " + sharedMemoryBytes + " B, " + args.size() + " args)");
            }
        }
    }

    /**
     * Queues the kernel with its arguments already packed as cuLaunchKernel's kernelParams (an
     * array of pointers to argument slots, as {@link KernelArgs#pack} makes): the path of callers
     * that launch thousands of kernels and keep one packing buffer, so no launch allocates.
     * Static shared memory only (no dynamic shared memory).
     */
    public void launchPacked(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, MemorySegment stream,
                             MemorySegment kernelParams) {
        int result = cuLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ, 0, stream, kernelParams,
                MemorySegment.NULL);
        if (result != CUDA_SUCCESS()) {
            throw CudaDriverException.of(result, "cuLaunchKernel(" + name + ", grid (" + gridX + "," + gridY + ","
                    + gridZ + "), block (" + blockX + "," + blockY + "," + blockZ + "))");
        }
    }

    /** A {@code CU_FUNC_ATTRIBUTE_*} value, e.g. NUM_REGS. */
    public int attribute(int attribute) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(C_INT);
            CudaDriverException.check(cuFuncGetAttribute(value, attribute, function),
                    "cuFuncGetAttribute(" + attribute + ", " + name + ")");
            return value.get(C_INT, 0);
        }
    }

    public void setAttribute(int attribute, int value) {
        CudaDriverException.check(cuFuncSetAttribute(function, attribute, value),
                "cuFuncSetAttribute(" + attribute + ", " + value + ", " + name + ")");
    }

    /** The block size with the best occupancy for a given dynamic shared memory size (cuOccupancyMaxPotentialBlockSize). */
    public int suggestedBlockSize(long dynamicSharedBytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment minGrid = arena.allocate(C_INT);
            MemorySegment blockSize = arena.allocate(C_INT);
            CudaDriverException.check(cuOccupancyMaxPotentialBlockSize(minGrid, blockSize, function,
                    MemorySegment.NULL, dynamicSharedBytes, 0), "cuOccupancyMaxPotentialBlockSize(" + name + ")");
            return blockSize.get(C_INT, 0);
        }
    }
}
