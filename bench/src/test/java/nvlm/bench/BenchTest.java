package nvlm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import nvlm.tensor.io.Json;
import nvlm.trainer.cli.UsageException;
import org.junit.jupiter.api.Test;

/** {@code ./nvlm bench}: dispatch, help, and the JSON lines of {@code bench gemm}. */
class BenchTest {
    @Test
    void helpListsTheGemmBenchmark() throws Exception {
        String out = capture(() -> new Bench().run(List.of("--help")));
        assertTrue(out.contains("gemm"), out);
    }

    @Test
    void gemmPrintsOneJsonLinePerOpAndShapeWithNullPeerWhenPythonIsMissing() throws Exception {
        String out = capture(() -> new Bench().run(List.of("gemm", "--shapes", "16x8x4,2x8x8x8", "--ops", "sgemm,gemm_bf16",
                "--repeats", "1", "--min-seconds", "0.001", "--python", "/nonexistent/python3", "--json-only")));
        List<String> lines = out.lines().toList();
        assertEquals(4, lines.size(), out);
        Map<String, Object> first = Json.parseObject(lines.get(0));
        assertEquals("sgemm", first.get("op"));
        assertEquals(16L, first.get("m"));
        assertEquals(8L, first.get("n"));
        assertEquals(4L, first.get("k"));
        assertTrue(((Number) first.get("java_gflops")).doubleValue() > 0, lines.get(0));
        assertTrue(first.containsKey("numpy_gflops"));
        assertNull(first.get("numpy_gflops"));
        assertNull(first.get("ratio"));
        Map<String, Object> batched = Json.parseObject(lines.get(3));
        assertEquals("gemm_bf16", batched.get("op"));
        assertEquals(2L, batched.get("batch"));
    }

    @Test
    void badFlagsAreUsageErrors() {
        assertThrows(UsageException.class, () -> new Bench().run(List.of("nosuch")));
        assertThrows(UsageException.class, () -> new Bench().run(List.of("gemm", "--shapes", "12x")));
        assertThrows(UsageException.class, () -> new Bench().run(List.of("gemm", "--shapes", "0")));
        assertThrows(UsageException.class, () -> new Bench().run(List.of("gemm", "--ops", "dgemm")));
        assertThrows(UsageException.class, () -> new Bench().run(List.of("gemm", "--layout", "xx")));
        assertThrows(UsageException.class, () -> new Bench().run(List.of("gemm", "--bogus")));
    }

    @FunctionalInterface
    private interface Body {
        int run() throws Exception;
    }

    private static String capture(Body body) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, body.run());
        } finally {
            System.setOut(original);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
