package nvlm.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import nvlm.kernels.gpu.GpuKernels;
import nvlm.kernels.translator.GpuKernel;
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
    void listPrintsExactlyTheKernelList() {
        // GpuKernels is what the CUDA backend launches (cuda-ffm's GpuFloorsTest checks that side).
        PrintStream saved = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
            assertEquals(0, Main.run(List.of("kernels", "--list")));
        } finally {
            System.setOut(saved);
        }
        List<String> listed = bytes.toString(StandardCharsets.UTF_8).lines().map(line -> line.split("\\s+")[0]).toList();
        assertEquals(GpuKernels.all().stream().map(GpuKernel::name).toList(), listed);
    }

    @Test
    void anUnknownKernelIsAUsageError() {
        assertEquals(2, Main.run(List.of("kernels", "--show", "Nope.kernel")));
    }
}
