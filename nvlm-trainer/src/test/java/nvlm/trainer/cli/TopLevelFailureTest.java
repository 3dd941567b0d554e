package nvlm.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What reaches the user when the JVM itself fails: one line with a hint, never a stack trace. */
class TopLevelFailureTest {

    private record Child(int status, String output) {
    }

    private static Child nvlm(List<String> jvmOptions, String... words) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new java.util.ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(words));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("NVLM_DEBUG");
        builder.environment().remove("NVLM_THREADS");
        Process p = builder.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Child(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    @Test
    void aThreadCountOutsideOneTo1024IsAUsageErrorNamingTheVariable() throws Exception {
        for (String bad : List.of("20000", "0", "many")) {
            Child run = nvlm(List.of("-Dnvlm.threads=" + bad), "tiles", "--size", "448x448");
            assertEquals(Main.USAGE_ERROR, run.status(), run.output());
            assertTrue(run.output().contains("NVLM_THREADS (or -Dnvlm.threads) must be an integer from 1 to 1024, got '"
                    + bad + "'"), run.output());
            assertFalse(run.output().contains("\tat "), "a stack trace:\n" + run.output());
        }
        Child ok = nvlm(List.of("-Dnvlm.threads=3"), "tiles", "--size", "448x448");
        assertEquals(0, ok.status(), ok.output());
    }

    @Test
    void errorsOfTheJvmBecomeOneLineWithAHint() {
        assertTrue(Main.describe(new OutOfMemoryError("Java heap space")).startsWith("out of memory (Java heap space, heap limit "));
        assertTrue(Main.describe(new OutOfMemoryError("Java heap space")).contains("raise NVLM_HEAP"));
        assertTrue(Main.describe(new InternalError("a fault occurred in an unsafe memory access operation"))
                .startsWith("a memory-mapped file was truncated or changed while it was read"));
        assertEquals(Main.FAILURE, Main.status(new OutOfMemoryError()));
        assertEquals(Main.USAGE_ERROR, Main.status(new ExceptionInInitializerError(new UsageException("bad"))));
        assertEquals("bad value", Main.describe(new ExceptionInInitializerError(new IllegalArgumentException("bad value"))));
    }
}
