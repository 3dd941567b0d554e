package nvlm.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import nvlm.kernels.translator.Buffer;
import nvlm.kernels.translator.CudaKernel;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.HostCompiledKernels;
import nvlm.kernels.translator.KernelLaunch;
import nvlm.kernels.translator.Nvcc;
import nvlm.kernels.translator.ParityCase;
import org.junit.jupiter.api.Test;

/**
 * Every kernel of the project translates, compiles with nvcc, and its translation computes what
 * its Java computes (run as host C here; on a GPU by the script this test can prepare).
 */
class AllKernelsTest {
    @Test
    void everyKernelTranslatesWithinTheStaticSharedMemoryLimit() {
        for (GpuKernel kernel : GpuKernels.all()) {
            CudaKernel cuda = kernel.cuda();
            assertTrue(cuda.staticSharedBytes() <= CudaKernel.MAX_STATIC_SHARED_BYTES,
                    kernel.name() + " declares " + cuda.staticSharedBytes() + " bytes of shared memory");
            assertTrue(cuda.source().contains("extern \"C\" __global__ void " + cuda.entryName() + "("), kernel.name());
        }
    }

    @Test
    void everyTranslationCompilesWithNvcc() throws Exception {
        Optional<Path> nvcc = Nvcc.find();
        assumeTrue(nvcc.isPresent(), "nvcc is not installed here: the CUDA C cannot be compiled");
        Map<String, String> sources = new LinkedHashMap<>();
        for (GpuKernel kernel : GpuKernels.all()) {
            sources.put(kernel.cuda().entryName() + ".cu", kernel.cudaSource());
        }
        List<String> failures = Nvcc.compileToPtx(nvcc.get(), sources, "sm_90", Files.createTempDirectory("nvlm-nvcc"));
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @Test
    void everyKernelsTranslationComputesWhatItsJavaComputes() throws Exception {
        Optional<Path> gxx = HostCompiledKernels.gxx();
        assumeTrue(gxx.isPresent(), "g++ is not installed: the translated C cannot be run on the host");
        long seed = new SplittableRandom().nextLong();
        List<ParityCase> cases = ParityCases.build(seed);
        Set<String> covered = new LinkedHashSet<>();
        List<KernelLaunch> inputs = new ArrayList<>();
        for (ParityCase c : cases) {
            covered.add(c.input().kernel().name());
            inputs.add(c.input());
        }
        Set<String> all = new LinkedHashSet<>();
        GpuKernels.all().forEach(k -> all.add(k.name()));
        all.removeAll(covered);
        assertTrue(all.isEmpty(), "kernels without a parity case: " + all);

        List<List<Object>> host = HostCompiledKernels.run(gxx.get(), inputs, Files.createTempDirectory("nvlm-host-parity"));
        for (int i = 0; i < cases.size(); i++) {
            ParityCase c = cases.get(i);
            for (int a = 0; a < c.cpuResult().size(); a++) {
                if (c.cpuResult().get(a) instanceof Buffer expected) {
                    String failure = ParityCase.compare(expected, (Buffer) host.get(i).get(a), c.atol(), c.rtol());
                    if (failure != null) {
                        fail(c.label() + " (" + c.input() + ") argument " + a + ", seed " + seed + ": " + failure);
                    }
                }
            }
        }

        String dir = System.getProperty("nvlm.gpuParityDir");
        if (dir != null && !dir.isBlank()) {
            ParityCase.writeForGpu(Path.of(dir).resolve("kernels"), cases);
        }
    }

    @Test
    void dumpWritesOneSourcePerKernel() throws Exception {
        Path dir = Files.createTempDirectory("nvlm-dump");
        List<Path> files = GpuKernels.dumpCuda(dir, "sm_90");
        assertEquals(GpuKernels.all().size(), files.size());
        for (Path file : files) {
            assertTrue(Files.readString(file).contains("__global__"), file.toString());
        }
    }
}
