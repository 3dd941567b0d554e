package nvlm.comm.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The committed MPI and NCCL bindings are exactly what {@code comm/jextract/generate.sh} makes with
 * jextract from Open MPI's mpi.h and comm/jextract/nccl.h (its {@code --check} mode). Runs where
 * jextract, its libclang, mpi.h and the CUDA headers are installed; skips elsewhere.
 */
class BindingsAreJextractOutputTest {

    @Test
    void generateScriptReproducesTheCommittedBindings() throws Exception {
        Path script = Path.of("jextract/generate.sh").toAbsolutePath();
        assumeTrue(Files.isExecutable(script), "run from the comm module folder: " + script + " missing");
        Path repository = script.getParent().getParent().getParent();
        boolean jextract = System.getenv("JEXTRACT") != null
                || Files.isExecutable(repository.resolveSibling("shared").resolve("tools/jextract/jextract"))
                || Files.isExecutable(repository.getParent().resolveSibling("shared").resolve("tools/jextract/jextract"));
        assumeTrue(jextract, "no jextract beside the repository (set JEXTRACT)");
        assumeTrue(Files.exists(Path.of("/usr/lib/llvm-14/lib/libclang.so")), "libclang 14 is not installed");
        assumeTrue(Files.isRegularFile(Path.of(System.getenv().getOrDefault("MPI_INCLUDE",
                "/usr/lib/x86_64-linux-gnu/openmpi/include"), "mpi.h")), "no Open MPI mpi.h (libopenmpi-dev; set MPI_INCLUDE)");
        assumeTrue(Files.isRegularFile(Path.of(System.getenv().getOrDefault("CUDA_INCLUDE",
                "/usr/local/cuda-13.0/include"), "driver_types.h")), "no CUDA 13.0 driver_types.h (set CUDA_INCLUDE)");
        Process process = new ProcessBuilder(List.of(script.toString(), "--check")).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(10, TimeUnit.MINUTES), "generate.sh --check timed out");
        assertEquals(0, process.exitValue(), output);
    }
}
