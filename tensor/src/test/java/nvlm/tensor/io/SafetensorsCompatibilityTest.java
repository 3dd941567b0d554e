package nvlm.tensor.io;

import static nvlm.tensor.io.SafetensorsSamples.bytesOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import nvlm.kernels.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files from other writers read correctly, and files we write are what other readers expect:
 * the Rust crate's own test vectors, fixtures written by a numpy-only script, and an independent
 * Python reader (with PyTorch and the safetensors package as extra checks where installed).
 */
class SafetensorsCompatibilityTest {
    @TempDir
    Path directory;

    /** Holds the random files the Python reader checks, shared by the tests that use its report. */
    @TempDir
    static Path shared;

    private static byte[] expectedFile(String header, byte[] data) {
        byte[] text = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + text.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(text.length).put(text).put(data).array();
    }

    private static byte[] floats(float... values) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buffer.putFloat(v);
        }
        return buffer.array();
    }

    private byte[] written(Map<String, String> metadata, List<TensorData> tensors) throws IOException {
        Path file = directory.resolve("out.safetensors");
        SafetensorsWriter.write(file, metadata, tensors);
        return Files.readAllBytes(file);
    }

    /** The byte-exact outputs asserted by the Rust crate's tests (test_serialization, test_serialization_forced_alignement, test_empty). */
    @Test
    void writerReproducesTheRustCrateTestVectors() throws IOException {
        byte[] data = floats(0, 1, 2, 3, 4, 5);
        byte[] attn = expectedFile("{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", data);
        assertEquals(64, attn.length - 8 - data.length);
        assertArrayEquals(attn, written(null, List.of(new TensorData("attn.0", DType.F32, new long[] {1, 2, 3}, MemorySegment.ofArray(data)))));

        byte[] padded = expectedFile("{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ", data);
        assertEquals(72, padded.length - 8 - data.length);
        assertArrayEquals(padded, written(null, List.of(new TensorData("attn0", DType.F32, new long[] {1, 1, 2, 3}, MemorySegment.ofArray(data)))));

        assertArrayEquals(expectedFile("{}      ", new byte[0]), written(null, List.of()));
        assertArrayEquals(expectedFile("{\"__metadata__\":{\"framework\":\"pt\"}}     ", new byte[0]),
                written(Map.of("framework", "pt"), List.of()));

        Path file = directory.resolve("attn.safetensors");
        Files.write(file, attn);
        try (SafetensorsFile read = SafetensorsFile.open(file)) {
            assertArrayEquals(data, bytesOf(read.data("attn.0")));
        }
    }

    private Path resource(String name) {
        return resourceOf(name);
    }

    private static Path resourceOf(String name) {
        try {
            return Path.of(SafetensorsCompatibilityTest.class.getResource("compat/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError("test resource compat/" + name, e);
        }
    }

    private static int[] widenedBits(SafetensorsFile file, String name) throws SafetensorsException {
        TensorEntry entry = file.entry(name);
        MemorySegment data = file.data(name);
        int[] bits = new int[(int) entry.numel()];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = switch (entry.dtype()) {
                case BF16 -> Float.floatToRawIntBits(DType.bf16ToFloat(data.get(ValueLayout.JAVA_SHORT, 2L * i)));
                case F16 -> Float.floatToRawIntBits(DType.f16ToFloat(data.get(ValueLayout.JAVA_SHORT, 2L * i)));
                case F32 -> data.get(ValueLayout.JAVA_INT, 4L * i);
                default -> throw new IllegalArgumentException(entry.dtype().toString());
            };
        }
        return bits;
    }

    private static int[] bitsOf(float... values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }

    /** The values make_fixtures.py writes. */
    private static void checkFixtureValues(SafetensorsFile file) throws SafetensorsException {
        assertEquals(Map.of("format", "pt", "source", "numpy"), file.metadata());
        assertEquals(DType.BF16, file.entry("bf16").dtype());
        assertArrayEquals(new long[] {2, 3}, file.entry("bf16").shape());
        assertArrayEquals(bitsOf(-2f, -1.5f, 0f, 0.5f, 1f, 3.25f), widenedBits(file, "bf16"));
        assertArrayEquals(bitsOf(DType.f16ToFloat(DType.floatToF16(0.1f)), -65504f, 6.103515625e-05f, Float.POSITIVE_INFINITY),
                widenedBits(file, "f16"));
        assertArrayEquals(bitsOf(1.5f, -0.0f, Float.MAX_VALUE, Float.MIN_VALUE), widenedBits(file, "f32"));
        assertArrayEquals(new long[] {2, 2}, file.entry("f32").shape());
        MemorySegment i32 = file.data("i32");
        assertArrayEquals(new int[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE}, i32.toArray(ValueLayout.JAVA_INT));
        assertArrayEquals(new long[] {Long.MIN_VALUE, 42}, file.data("i64").toArray(ValueLayout.JAVA_LONG));
        assertArrayEquals(new long[] {2, 1}, file.entry("i64").shape());
        assertEquals(0, file.entry("scalar").rank());
        assertEquals(1, file.entry("scalar").numel());
        assertArrayEquals(bitsOf(7.25f), widenedBits(file, "scalar"));
        assertArrayEquals(new long[] {0, 3}, file.entry("empty").shape());
        assertEquals(0, file.data("empty").byteSize());
        for (TensorEntry entry : file.entries()) {
            assertEquals(0, file.data(entry.name()).address() % entry.dtype().byteSize(), entry.name());
        }
    }

    @Test
    void numpyWrittenFixturesReadToTheirValues() throws IOException {
        try (SafetensorsFile aligned = SafetensorsFile.open(resource("aligned.safetensors"))) {
            checkFixtureValues(aligned);
            assertTrue(aligned.data("f32").isMapped(), "aligned file is read zero-copy");
        }
        // No header padding: the tensors sit at odd file offsets and are copied to aligned memory.
        try (SafetensorsFile legacy = SafetensorsFile.open(resource("legacy_unpadded.safetensors"))) {
            checkFixtureValues(legacy);
            assertEquals(List.of("bf16", "empty", "f16", "f32", "i32", "i64", "scalar"),
                    legacy.entries().stream().map(TensorEntry::name).toList());
        }
    }

    @Test
    void writerReproducesTheNumpyFixtureByteForByte() throws IOException {
        List<TensorData> tensors = new ArrayList<>();
        try (SafetensorsFile legacy = SafetensorsFile.open(resource("legacy_unpadded.safetensors"))) {
            for (TensorEntry entry : legacy.entries()) {
                tensors.add(new TensorData(entry.name(), entry.dtype(), entry.shape(),
                        MemorySegment.ofArray(bytesOf(legacy.data(entry.name())))));
            }
            Map<String, String> metadata = new LinkedHashMap<>(legacy.metadata());
            assertArrayEquals(Files.readAllBytes(resource("aligned.safetensors")), written(metadata, tensors));
        }
    }

    // ------------------------------------------------------------------ Python cross-checks

    /** An interpreter that imports numpy, preferring Debian's (which may also have PyTorch); null when none. */
    private static String pythonWithNumpy() {
        for (String candidate : List.of("/usr/bin/python3", "python3")) {
            try {
                Process p = new ProcessBuilder(candidate, "-c", "import numpy").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return candidate;
                }
            } catch (IOException | InterruptedException e) {
                // not there: try the next one
            }
        }
        return null;
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.PIPE).start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "python timed out");
        assertEquals(0, p.exitValue(), () -> String.join(" ", command) + " failed: " + err);
        return new String(out, StandardCharsets.UTF_8);
    }

    @Test
    void fixtureScriptStillWritesTheCheckedInBytes() throws Exception {
        String python = pythonWithNumpy();
        assumeTrue(python != null, "no python3 with numpy on this machine");
        Path out = directory.resolve("fixtures");
        run(List.of(python, resource("make_fixtures.py").toString(), out.toString()));
        for (String name : List.of("aligned.safetensors", "legacy_unpadded.safetensors")) {
            assertArrayEquals(Files.readAllBytes(resource(name)), Files.readAllBytes(out.resolve(name)), name);
        }
    }

    /** The Python reader's report on a batch of Java-written random files, computed once for the tests below. */
    private record PythonReport(boolean torch, boolean safetensors, List<Path> files, Map<String, Object> byFile) {
    }

    private static PythonReport report;
    private static Throwable reportFailure;

    /** Runs the Python reader once for the whole class; a failure (or a skip) is remembered, not retried. */
    private static synchronized PythonReport pythonReport() throws Throwable {
        if (report == null && reportFailure == null) {
            try {
                report = runPythonReader();
            } catch (Throwable failure) {
                reportFailure = failure;
            }
        }
        if (reportFailure != null) {
            throw reportFailure;
        }
        return report;
    }

    private static PythonReport runPythonReader() throws Exception {
        String python = pythonWithNumpy();
        assumeTrue(python != null, "no python3 with numpy on this machine");
        List<String> command = new ArrayList<>(List.of(python, resourceOf("read_safetensors.py").toString()));
        List<Path> files = new ArrayList<>();
        for (int seed = 0; seed < 25; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            Path file = shared.resolve("random" + seed + ".safetensors");
            SafetensorsWriter.write(file, SafetensorsSamples.randomMetadata(random), SafetensorsSamples.randomTensors(random));
            files.add(file);
            command.add(file.toString());
        }
        Map<String, Object> json = Json.parseObject(run(command));
        @SuppressWarnings("unchecked")
        Map<String, Object> byFile = (Map<String, Object>) json.get("files");
        return new PythonReport((Boolean) json.get("torch"), (Boolean) json.get("safetensors"), files, byFile);
    }

    @Test
    void independentPythonReaderAgreesWithWhatWeWrite() throws Throwable {
        PythonReport python = pythonReport();
        MessageDigest sha256 = sha256();
        for (Path path : python.files()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> seen = (Map<String, Object>) python.byFile().get(path.toString());
            try (SafetensorsFile file = SafetensorsFile.open(path)) {
                assertEquals(file.metadata(), seen.get("metadata"));
                Map<?, ?> tensors = (Map<?, ?>) seen.get("tensors");
                assertEquals(file.entries().size(), tensors.size());
                for (TensorEntry entry : file.entries()) {
                    Map<?, ?> tensor = (Map<?, ?>) tensors.get(entry.name());
                    assertEquals(entry.dtype().name(), tensor.get("dtype"));
                    List<Long> shape = new ArrayList<>();
                    for (long dim : entry.shape()) {
                        shape.add(dim);
                    }
                    assertEquals(shape, tensor.get("shape"));
                    assertEquals(HexFormat.of().formatHex(sha256.digest(bytesOf(file.data(entry.name())))), tensor.get("sha256"));
                    checkElements(file, entry, (List<?>) tensor.get("bits"));
                }
            }
        }
    }

    /** Python's element values: integers as they are, floats widened to float32 bits (NaN payloads may differ). */
    private static void checkElements(SafetensorsFile file, TensorEntry entry, List<?> pythonBits) throws SafetensorsException {
        MemorySegment data = file.data(entry.name());
        assertEquals(entry.numel(), pythonBits.size());
        for (int i = 0; i < pythonBits.size(); i++) {
            long theirs = (Long) pythonBits.get(i);
            switch (entry.dtype()) {
                case I32 -> assertEquals(data.getAtIndex(ValueLayout.JAVA_INT, i), theirs);
                case I64 -> assertEquals(data.getAtIndex(ValueLayout.JAVA_LONG, i), theirs);
                case BOOL -> assertEquals(data.get(ValueLayout.JAVA_BYTE, i) & 0xff, theirs);
                default -> {
                    float ours = switch (entry.dtype()) {
                        case BF16 -> DType.bf16ToFloat(data.getAtIndex(ValueLayout.JAVA_SHORT, i));
                        case F16 -> DType.f16ToFloat(data.getAtIndex(ValueLayout.JAVA_SHORT, i));
                        default -> data.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    };
                    float expected = Float.intBitsToFloat((int) theirs);
                    if (Float.isNaN(expected)) {
                        assertTrue(Float.isNaN(ours), entry.name());
                    } else {
                        assertEquals(Integer.toUnsignedLong(Float.floatToRawIntBits(ours)), theirs, entry.name() + "[" + i + "]");
                    }
                }
            }
        }
    }

    @Test
    void pytorchWidensBf16AndF16AsWeDo() throws Throwable {
        PythonReport python = pythonReport();
        // read_safetensors.py exits non-zero if torch's widening differs from numpy's, which the test above matched to ours.
        assumeTrue(python.torch(), "PyTorch is not importable by the python3 that has numpy");
        assertTrue(python.byFile().size() == python.files().size());
    }

    @Test
    void safetensorsPythonPackageReadsWhatWeWrite() throws Throwable {
        PythonReport python = pythonReport();
        assumeTrue(python.safetensors(), "the safetensors Python package is not installed (not in Debian; PyPI is unreachable here)");
        assertTrue(python.byFile().size() == python.files().size());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }
}
