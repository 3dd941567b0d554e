package nvlm.cuda.runtime;

import java.lang.foreign.MemorySegment;

import static nvlm.cuda.bindings.cuda_h.*;

/** A kernel (CUfunction) of a loaded {@link CudaModule}, launched with cuLaunchKernel. */
public final class CudaFunction {
    private final MemorySegment function;
    private final String name;

    CudaFunction(MemorySegment function, String name) {
        this.function = function;
        this.name = name;
    }

    public String name() {
        return name;
    }

    /**
     * Queues the kernel on {@code stream} with its arguments packed as cuLaunchKernel's
     * kernelParams: an array of pointers, each to memory holding one argument, whose size the
     * driver takes from the kernel image (REFERENCE.md section 2). A caller that launches
     * thousands of kernels keeps one packing buffer, so no launch allocates. Static shared memory
     * only (no dynamic shared memory).
     */
    public void launch(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, CudaStream stream,
                       MemorySegment kernelParams) {
        int result = cuLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ, 0, stream.handle(),
                kernelParams, MemorySegment.NULL);
        if (result != CUDA_SUCCESS()) {
            throw CudaDriverException.of(result, "cuLaunchKernel(" + name + ", grid (" + gridX + "," + gridY + ","
                    + gridZ + "), block (" + blockX + "," + blockY + "," + blockZ + "))");
        }
    }
}
