package nvlm.cuda.runtime;

import java.util.List;

/**
 * The native libraries the runtime loads, with the sonames searched for each, newest first
 * (CUDA 13 names, then the CUDA 12 ones as a fallback; REFERENCE.md section 1), and a symbol
 * each exports.
 */
public enum CudaLibrary {
    /** Ships with the NVIDIA driver, not with the toolkit. */
    DRIVER("CUDA driver", List.of("libcuda.so.1"), "cuInit"),
    /** dlopens libnvrtc-builtins.so.MAJOR.MINOR from its own folder at compile time. */
    NVRTC("NVRTC", List.of("libnvrtc.so.13", "libnvrtc.so.12"), "nvrtcVersion"),
    /** Loaded only because cuBLAS needs it. */
    CUBLAS_LT("cuBLASLt", List.of("libcublasLt.so.13", "libcublasLt.so.12"), "cublasLtGetVersion"),
    /** Needs libcublasLt of the same major version, which is loaded first. */
    CUBLAS("cuBLAS", List.of("libcublas.so.13", "libcublas.so.12"), "cublasCreate_v2"),
    /** GPU collectives, for nvlm.comm's NCCL communicator; ships with PyTorch's wheels (nvidia/nccl/lib). */
    NCCL("NCCL", List.of("libnccl.so.2"), "ncclGetVersion");

    private final String description;
    private final List<String> sonames;
    private final String symbol;

    CudaLibrary(String description, List<String> sonames, String symbol) {
        this.description = description;
        this.sonames = sonames;
        this.symbol = symbol;
    }

    public String description() {
        return description;
    }

    /** File names to look for, in order of preference. */
    public List<String> sonames() {
        return sonames;
    }

    /** A function the library exports, by which a copy the dynamic loader found is located. */
    String symbol() {
        return symbol;
    }
}
