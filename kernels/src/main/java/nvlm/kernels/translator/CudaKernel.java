package nvlm.kernels.translator;

import java.util.List;

/**
 * A kernel translated to CUDA C for one target architecture: everything a CUDA runtime needs to
 * compile it (NVRTC or nvcc, no headers needed) and launch it with {@code cuLaunchKernel}.
 *
 * <p>Launching: compile {@link #source()} for {@link #arch()}, look up {@link #entryName()}, pass
 * one argument slot per {@link #parameters()} entry (see {@link CudaParameter}) and
 * {@code sharedMemBytes = 0}: all shared memory is static ({@link #staticSharedBytes()} is
 * reported so a runtime can check it against the device's 48 KiB static limit). The grid comes
 * from the {@link KernelLaunch} the kernel's Java launcher built.
 *
 * @param arch              the target, e.g. {@code sm_90}
 * @param entryName         the {@code extern "C" __global__} function name
 * @param source            the complete CUDA C source (prelude, device functions, kernel)
 * @param parameters        the C parameters in order (the kernel context has none)
 * @param staticSharedBytes bytes of {@code __shared__} arrays the kernel declares
 * @param usesBarrier       whether the kernel or a function it calls uses {@code __syncthreads()}
 * @param usesAtomics       whether it uses {@code atomicAdd}
 */
public record CudaKernel(String arch, String entryName, String source, List<CudaParameter> parameters,
                         int staticSharedBytes, boolean usesBarrier, boolean usesAtomics) {
    /** CUDA's limit on static shared memory per block. */
    public static final int MAX_STATIC_SHARED_BYTES = 48 * 1024;

    public CudaKernel {
        parameters = List.copyOf(parameters);
    }

    /** The C signature, e.g. {@code Elementwise_add(float* a, float* b, float* out, long long n)}. */
    public String signature() {
        StringBuilder text = new StringBuilder(entryName).append('(');
        for (int i = 0; i < parameters.size(); i++) {
            CudaParameter p = parameters.get(i);
            text.append(i == 0 ? "" : ", ").append(p.cType()).append(' ').append(p.name());
        }
        return text.append(')').toString();
    }
}
