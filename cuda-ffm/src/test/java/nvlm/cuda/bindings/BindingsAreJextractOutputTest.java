package nvlm.cuda.bindings;

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
 * The committed bindings are exactly what {@code cuda-ffm/jextract/generate.sh} makes with
 * jextract from the headers (its {@code --check} mode). Runs where jextract, its libclang and the
 * CUDA headers are installed; skips elsewhere (the script installs libclang on first use, a test
 * must not).
 */
class BindingsAreJextractOutputTest {

    @Test
    void generateScriptReproducesTheCommittedBindings() throws Exception {
        Path script = Path.of("jextract/generate.sh").toAbsolutePath();
        assumeTrue(Files.isExecutable(script), "run from the cuda-ffm module folder: " + script + " missing");
        Path repository = script.getParent().getParent().getParent();
        boolean jextract = System.getenv("JEXTRACT") != null
                || Files.isExecutable(repository.resolveSibling("shared").resolve("tools/jextract/jextract"))
                || Files.isExecutable(repository.getParent().resolveSibling("shared").resolve("tools/jextract/jextract"));
        assumeTrue(jextract, "no jextract beside the repository (set JEXTRACT)");
        assumeTrue(Files.exists(Path.of("/usr/lib/llvm-14/lib/libclang.so")), "libclang 14 is not installed");
        assumeTrue(Files.isRegularFile(Path.of(System.getenv().getOrDefault("CUDA_INCLUDE",
                "/usr/local/cuda-13.0/include"), "cuda.h")), "no CUDA 13.0 cuda.h (set CUDA_INCLUDE)");
        Process process = new ProcessBuilder(List.of(script.toString(), "--check")).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(10, TimeUnit.MINUTES), "generate.sh --check timed out");
        assertEquals(0, process.exitValue(), output);
    }
}
