package nvlm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import nvlm.tensor.io.Json;
import nvlm.trainer.cli.Main;
import org.junit.jupiter.api.Test;

/** {@code ./nvlm bench}: dispatch, help, and the JSON lines of {@code bench gemm}, {@code generate} and {@code train}. */
class BenchTest {
    @Test
    void helpListsTheGemmBenchmark() throws Exception {
        String out = capture(() -> Main.run(List.of("bench", "--help")));
        assertTrue(out.contains("gemm") && out.contains("train"), out);
        assertTrue(capture(() -> Main.run(List.of("--help"))).contains("bench"), "bench is a command of ./nvlm");
    }

    @Test
    void generatePrintsPrefillAndDecodeLinesPerCaseWithNullPeersWhenNoneRun() throws Exception {
        String out = capture(() -> Main.run(List.of("bench", "generate", "--preset", "tiny", "--cases", "text,image",
                "--prompt-tokens", "16", "--image-text-tokens", "4", "--new-tokens", "3", "--repeats", "1", "--peers", "none")));
        List<String> lines = out.lines().toList();
        assertEquals(4, lines.size(), out);
        Map<String, Object> prefill = Json.parseObject(lines.get(0));
        assertEquals("text", prefill.get("case"));
        assertEquals("prefill", prefill.get("phase"));
        assertEquals(16L, prefill.get("prompt_tokens"));
        assertTrue(((Number) prefill.get("java_tokens_per_s")).doubleValue() > 0, lines.get(0));
        assertNull(prefill.get("torch_tokens_per_s"));
        assertNull(prefill.get("torch_dtype"), "no torch peer ran");
        assertNull(prefill.get("roofline_tokens_per_s"), "the roofline is a decode figure");
        Map<String, Object> decode = Json.parseObject(lines.get(1));
        assertEquals("decode", decode.get("phase"));
        assertTrue(((Number) decode.get("roofline_tokens_per_s")).doubleValue() > 0, lines.get(1));
        assertTrue(((Number) decode.get("read_roofline_tokens_per_s")).doubleValue() > 0, lines.get(1));
        assertNull(prefill.get("read_roofline_tokens_per_s"));
        assertEquals(0.0, ((Number) decode.get("java_fresh_native_blocks_per_token")).doubleValue(), lines.get(1));
        Map<String, Object> image = Json.parseObject(lines.get(2));
        assertEquals("image", image.get("case"));
        assertEquals(4L + 16L, image.get("prompt_tokens"), "4 text tokens and one tile of the tiny preset's 16 tokens");
    }

    @Test
    void trainTimesJavaInRoundsAndGivesNullPeerFiguresWhenPythonIsMissing() throws Exception {
        String out = capture(() -> Main.run(List.of("bench", "train", "--preset", "tiny", "--rows", "1", "--rounds", "2",
                "--steps", "1", "--warmup", "0", "--python", "/nonexistent/python3", "--progress", "off")));
        Map<String, Object> json = Json.parseObject(out.strip());
        assertTrue(((Number) json.get("java_samples_per_s")).doubleValue() > 0, out);
        assertNull(json.get("torch_samples_per_s"));
        assertNull(json.get("ratio"));
        assertNull(json.get("ratio_min"));
        assertEquals(2L, json.get("rounds"));
        assertEquals(1L, json.get("steps_per_round"));
    }

    @Test
    void trainInterleavesWithThePyTorchReferenceInServeMode() throws Exception {
        assumeTrue(new ProcessBuilder("/usr/bin/python3", "-c", "import torch").start().waitFor() == 0, "no torch for /usr/bin/python3");
        String root = System.getProperty("nvlm.root");
        System.setProperty("nvlm.root", java.nio.file.Path.of("..").toAbsolutePath().normalize().toString());
        try {
            String out = capture(() -> Main.run(List.of("bench", "train", "--preset", "tiny", "--rows", "1", "--rounds", "2",
                    "--steps", "1", "--warmup", "1", "--threads", "1", "--progress", "off")));
            Map<String, Object> json = Json.parseObject(out.strip());
            double java = ((Number) json.get("java_samples_per_s")).doubleValue();
            double torch = ((Number) json.get("torch_samples_per_s")).doubleValue();
            assertTrue(java > 0 && torch > 0, out);
            assertEquals(java / torch, ((Number) json.get("ratio")).doubleValue(), 1e-9 * java / torch, out);
            double low = ((Number) json.get("ratio_min")).doubleValue();
            double high = ((Number) json.get("ratio_max")).doubleValue();
            assertTrue(0 < low && low <= high, out);
        } finally {
            if (root == null) {
                System.clearProperty("nvlm.root");
            } else {
                System.setProperty("nvlm.root", root);
            }
        }
    }

    @Test
    void gemmPrintsOneJsonLinePerOpAndShapeWithNullPeerWhenPythonIsMissing() throws Exception {
        String out = capture(() -> Main.run(List.of("bench", "gemm", "--shapes", "16x8x4,2x8x8x8", "--ops", "sgemm,gemm_bf16",
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
    void badFlagsAreUsageErrorsNamingTheOption() {
        assertUsageError("unknown command 'nosuch'; commands: gemm, train", "nosuch");
        assertUsageError("'12x' is none of N, MxNxK, BATCHxMxNxK", "gemm", "--shapes", "12x");
        assertUsageError("'0' has a size below 1", "gemm", "--shapes", "0");
        assertUsageError("expected sgemm or gemm_bf16, got 'dgemm'", "gemm", "--ops", "dgemm");
        assertUsageError("expected nn, nt or tn, got 'xx'", "gemm", "--layout", "xx");
        assertUsageError("Unknown option: '--bogus'", "gemm", "--bogus");
        assertUsageError("unknown architecture 'q'", "train", "--arch", "q");
        assertUsageError("must be >= 1, got 0", "train", "--rows", "0");
        assertUsageError("expected bf16 or float32, got 'f16'", "generate", "--torch-dtype", "f16");
    }

    private static void assertUsageError(String message, String... words) {
        List<String> all = new java.util.ArrayList<>(List.of("bench"));
        all.addAll(List.of(words));
        PrintStream original = System.err;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            assertEquals(Main.USAGE_ERROR, Main.run(all), String.join(" ", all));
        } finally {
            System.setErr(original);
        }
        String err = bytes.toString(StandardCharsets.UTF_8);
        String option = words.length > 1 ? words[1] : "";
        assertTrue(err.contains(message) && (!option.startsWith("--") || err.contains("'" + option + "'")), err);
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
