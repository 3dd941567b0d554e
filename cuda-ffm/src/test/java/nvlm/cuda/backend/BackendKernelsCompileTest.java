package nvlm.cuda.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import nvlm.cuda.backend.kernels.BackendKernels;
import nvlm.kernels.hat.CudaKernel;
import nvlm.kernels.hat.GpuKernel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kernel the CUDA backend launches translates from its bytecode and compiles for Hopper with
 * the local nvcc (the same CUDA C the backend hands NVRTC on the GPU machine), and stays within
 * the static shared-memory limit of a block.
 */
class BackendKernelsCompileTest {
    @TempDir
    Path dir;

    static Optional<Path> nvcc() {
        List<String> candidates = new ArrayList<>();
        if (System.getenv("NVCC") != null) {
            candidates.add(System.getenv("NVCC"));
        }
        candidates.add("/usr/local/cuda/bin/nvcc");
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty()) {
                candidates.add(d + "/nvcc");
            }
        }
        return candidates.stream().map(Path::of).filter(Files::isExecutable).findFirst();
    }

    @Test
    void everyBackendKernelTranslatesWithinTheStaticSharedMemoryLimit() {
        List<GpuKernel> kernels = BackendKernels.all();
        assertTrue(kernels.size() > 30, "expected the library's and the backend's kernels, got " + kernels.size());
        for (GpuKernel kernel : kernels) {
            CudaKernel cuda = kernel.cuda("sm_90");
            assertTrue(cuda.staticSharedBytes() <= CudaKernel.MAX_STATIC_SHARED_BYTES,
                    kernel.name() + " declares " + cuda.staticSharedBytes() + " bytes of shared memory");
            assertTrue(cuda.source().contains("extern \"C\" __global__"), kernel.name());
        }
    }

    @Test
    void everyBackendKernelCompilesForHopperWithNvcc() throws Exception {
        Optional<Path> nvcc = nvcc();
        assumeTrue(nvcc.isPresent(), "nvcc is not installed here: the translated CUDA C cannot be compiled");
        // One translation unit, each kernel in its own namespace: nvcc's start-up dominates per file.
        StringBuilder unit = new StringBuilder();
        List<String> entries = new ArrayList<>();
        int id = 0;
        for (GpuKernel kernel : BackendKernels.all()) {
            CudaKernel cuda = kernel.cuda("sm_90");
            Path file = dir.resolve(cuda.entryName() + ".cu");
            Files.writeString(file, cuda.source(), StandardCharsets.UTF_8);
            unit.append("namespace k").append(id++).append(" {\n#include \"").append(file.getFileName()).append("\"\n}\n");
            entries.add(cuda.entryName());
        }
        Files.writeString(dir.resolve("all.cu"), unit.toString(), StandardCharsets.UTF_8);
        Process process = new ProcessBuilder(nvcc.get().toString(), "-arch=sm_90", "-std=c++17", "-ptx", "all.cu", "-o",
                "all.ptx").directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(10, TimeUnit.MINUTES), "nvcc timed out");
        assertEquals(0, process.exitValue(), "nvcc failed:\n" + output);
        String ptx = Files.readString(dir.resolve("all.ptx"));
        for (String entry : entries) {
            assertTrue(ptx.contains(".entry " + entry + "("), "no PTX entry point " + entry);
        }
    }
}
