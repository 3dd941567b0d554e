package nvlm.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import nvlm.kernels.gpu.GpuKernels;
import org.junit.jupiter.api.Test;

class KernelsCommandTest {
    @Test
    void dumpWritesTheCudaSourceOfEveryKernel() throws Exception {
        Path dir = Files.createTempDirectory("nvlm-kernels-dump");
        assertEquals(0, Main.run(List.of("kernels", "--dump", dir.toString(), "--arch", "sm_90")));
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> sources = files.filter(f -> f.toString().endsWith(".cu")).toList();
            assertEquals(GpuKernels.all().size(), sources.size());
        }
        assertTrue(Files.readString(dir.resolve("Softmax_forwardKernel.cu"))
                .contains("extern \"C\" __global__ void Softmax_forwardKernel("));
    }

    @Test
    void anUnknownKernelIsAUsageError() {
        assertEquals(2, Main.run(List.of("kernels", "--show", "Nope.kernel")));
    }
}
