package nvlm.cuda.runtime;

import java.util.List;

/**
 * The native libraries the bindings load, with the sonames searched for each, newest first
 * (CUDA 13 names, then the CUDA 12 ones as a fallback; REFERENCE.md section 1).
 */
public enum CudaLibrary {
    /** Ships with the NVIDIA driver, not with the toolkit. */
    DRIVER("CUDA driver", List.of("libcuda.so.1")),
    /** dlopens libnvrtc-builtins.so.MAJOR.MINOR from its own folder at compile time. */
    NVRTC("NVRTC", List.of("libnvrtc.so.13", "libnvrtc.so.12")),
    CUBLAS_LT("cuBLASLt", List.of("libcublasLt.so.13", "libcublasLt.so.12")),
    /** Needs libcublasLt of the same major version, which is loaded first. */
    CUBLAS("cuBLAS", List.of("libcublas.so.13", "libcublas.so.12"));

    private final String description;
    private final List<String> sonames;

    CudaLibrary(String description, List<String> sonames) {
        this.description = description;
        this.sonames = sonames;
    }

    public String description() {
        return description;
    }

    /** File names to look for, in order of preference. */
    public List<String> sonames() {
        return sonames;
    }
}
