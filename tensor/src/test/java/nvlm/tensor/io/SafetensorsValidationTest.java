package nvlm.tensor.io;

import static nvlm.tensor.io.SafetensorsSamples.fileBytes;
import static nvlm.tensor.io.SafetensorsSamples.writeRaw;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import nvlm.kernels.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every malformed file is a SafetensorsException naming the file and, where one is at fault, the tensor. */
class SafetensorsValidationTest {
    @TempDir
    Path directory;

    private static final String F32_2 = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    /** Opens a file that must be rejected; checks the message names the file and the tensor (null: none). */
    private static SafetensorsException rejected(Path file, String tensor, String fragment) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(file).close());
        String message = e.getMessage();
        assertTrue(message.startsWith(file.toString()), message);
        assertEquals(file, e.file());
        assertEquals(tensor, e.tensor(), message);
        if (tensor != null) {
            assertTrue(message.contains("tensor \"" + tensor + "\""), message);
        }
        assertTrue(message.contains(fragment), () -> "expected \"" + fragment + "\" in: " + message);
        return e;
    }

    private Path raw(String header, int bufferLength) throws IOException {
        return writeRaw(directory, "bad.safetensors", header, bufferLength);
    }

    private Path entry(String name, String info, int bufferLength) throws IOException {
        return raw("{\"" + name + "\":" + info + "}", bufferLength);
    }

    @Test
    void fileShorterThanTheLengthPrefix() throws IOException {
        rejected(writeRaw(directory, "empty.safetensors", new byte[0]), null, "0 bytes, too short");
        rejected(writeRaw(directory, "seven.safetensors", new byte[7]), null, "7 bytes, too short");
    }

    @Test
    void headerLengthOverTheLimit() throws IOException {
        byte[] contents = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(100_000_001L).array();
        rejected(writeRaw(directory, "huge.safetensors", contents), null, "header length 100000001 is over");
        byte[] negative = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).array();
        rejected(writeRaw(directory, "negative.safetensors", negative), null, "header length 18446744073709551615 is over");
    }

    @Test
    void headerLengthPastTheEndOfTheFile() throws IOException {
        byte[] contents = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(100_000_000L).put("{}".getBytes()).array();
        rejected(writeRaw(directory, "short.safetensors", contents), null, "runs past the end of the 16-byte file");
        byte[] off = fileBytes("{}", new byte[0]);
        off[0] = 3;
        rejected(writeRaw(directory, "off.safetensors", off), null, "header length 3 runs past");
    }

    @Test
    void headerThatIsNotUtf8() throws IOException {
        for (byte[] bad : List.of(new byte[] {(byte) 0xC3, 0x28}, new byte[] {(byte) 0xC0, (byte) 0xAF},
                new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, new byte[] {(byte) 0xFF})) {
            byte[] header = new byte[4 + bad.length];
            header[0] = '{';
            header[1] = '"';
            System.arraycopy(bad, 0, header, 2, bad.length);
            header[2 + bad.length] = '"';
            header[3 + bad.length] = '}';
            byte[] contents = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN)
                    .putLong(header.length).put(header).array();
            rejected(writeRaw(directory, "utf8.safetensors", contents), null, "not valid UTF-8 (byte 10 of the file)");
        }
    }

    @Test
    void malformedJson() throws IOException {
        rejected(raw("{\"a\":", 0), null, "malformed header JSON");
        rejected(raw("{\"a\":" + F32_2 + ",}", 8), null, "malformed header JSON");
        rejected(raw("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), null,
                "duplicate key \"dtype\"");
    }

    @Test
    void headerThatIsNotAnObject() throws IOException {
        rejected(raw("[]", 0), null, "header is a JSON array, not an object");
        rejected(raw("1", 0), null, "header is a JSON number");
        rejected(raw("\"{}\"", 0), null, "header is a JSON string");
    }

    @Test
    void entryThatIsNotAnObject() throws IOException {
        rejected(entry("w", "1", 0), "w", "entry is a JSON number, not an object");
        rejected(entry("w", "[\"F32\"]", 0), "w", "entry is a JSON array");
    }

    @Test
    void entryMissingAField() throws IOException {
        rejected(entry("w", "{\"shape\":[2],\"data_offsets\":[0,8]}", 8), "w", "no \"dtype\"");
        rejected(entry("w", "{\"dtype\":\"F32\",\"data_offsets\":[0,8]}", 8), "w", "no \"shape\"");
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":[2]}", 8), "w", "no \"data_offsets\"");
        rejected(entry("w", "{\"dtype\":null,\"shape\":[2],\"data_offsets\":[0,8]}", 8), "w", "\"dtype\" is a JSON null");
        rejected(entry("w", "{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}", 8), "w", "\"dtype\" is a JSON number");
    }

    @Test
    void unknownAndUnsupportedDtypes() throws IOException {
        rejected(entry("w", "{\"dtype\":\"F31\",\"shape\":[2],\"data_offsets\":[0,8]}", 8), "w", "unknown dtype \"F31\"");
        rejected(entry("w", "{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8), "w", "unknown dtype \"f32\"");
        rejected(entry("w", "{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}", 8), "w",
                "dtype F64 is not supported (nvlm-java reads [F32, BF16, F16, I32, I64, BOOL])");
        rejected(entry("w", "{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}", 8), "w", "dtype U8 is not supported");
        rejected(entry("w", "{\"dtype\":\"F8_E4M3\",\"shape\":[8],\"data_offsets\":[0,8]}", 8), "w", "dtype F8_E4M3 is not supported");
    }

    @Test
    void badShapes() throws IOException {
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}", 8), "w", "\"shape\"[0] is -2, not a non-negative");
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":[1,2.0],\"data_offsets\":[0,8]}", 8), "w", "\"shape\"[1] is 2.0, not");
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}", 8), "w", "\"shape\"[0] is a JSON string");
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":[1e30],\"data_offsets\":[0,8]}", 8), "w", "\"shape\"[0] is 1.0E30");
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}", 8), "w", "not a non-negative 64-bit");
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}", 8), "w", "\"shape\" is a JSON number, not an array");
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}", 8), "w", "overflows 64 bits");
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}", 8), "w", "overflows 64 bits");
    }

    @Test
    void badDataOffsets() throws IOException {
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}", 8), "w", "has 1 numbers, not 2");
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}", 8), "w", "has 3 numbers, not 2");
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-1,8]}", 8), "w", "\"data_offsets\"[0] is -1");
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.5]}", 8), "w", "\"data_offsets\"[1] is 8.5");
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":{\"0\":8}}", 8), "w", "is a JSON object, not an array");
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}", 8), "w", "[8, 0] end before they begin");
    }

    @Test
    void offsetsThatDisagreeWithShapeAndDtype() throws IOException {
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}", 8), "w",
                "[0, 8] hold 8 bytes but F32[3] needs 12");
        rejected(entry("w", "{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,16]}", 16), "w", "needs 8");
    }

    @Test
    void offsetsPastTheDataBuffer() throws IOException {
        rejected(entry("w", F32_2, 4), "w", "[0, 8] run past the end of the 4-byte data buffer");
        rejected(entry("w", "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[9223372036854775799,9223372036854775807]}", 8),
                "w", "run past the end");
    }

    @Test
    void overlappingTensors() throws IOException {
        rejected(raw("{\"a\":" + F32_2 + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "b",
                "[4, 12] overlap tensor \"a\" [0, 8]");
        rejected(raw("{\"a\":" + F32_2 + ",\"b\":" + F32_2 + "}", 8), "b", "overlap tensor \"a\"");
        // A zero-size tensor inside another one overlaps it too (the Rust reader agrees).
        rejected(raw("{\"a\":" + F32_2 + ",\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", 8), "z",
                "overlap tensor \"a\"");
    }

    @Test
    void gapsInTheDataBuffer() throws IOException {
        rejected(entry("a", "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}", 8), "a", "leave a gap: the previous tensor ends at 0");
        rejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12), "b", "gap: the previous tensor ends at 4");
        rejected(entry("a", "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 8), "a",
                "the data buffer is 8 bytes but the tensors end at 4");
        rejected(raw("{}", 4), null, "the data buffer is 4 bytes but the tensors end at 0");
        rejected(raw("{\"__metadata__\":{}}", 1), null, "the data buffer is 1 bytes");
    }

    @Test
    void duplicateTensorNames() throws IOException {
        rejected(raw("{\"a\":" + F32_2 + ",\"a\":" + F32_2 + "}", 16), "a", "duplicate tensor name");
        rejected(raw("{\"a\":" + F32_2 + ",\"\\u0061\":" + F32_2 + "}", 16), "a", "duplicate tensor name");
    }

    @Test
    void metadataThatIsNotAMapOfStrings() throws IOException {
        rejected(raw("{\"__metadata__\":[]}", 0), null, "__metadata__ is a JSON array, not an object of strings");
        rejected(raw("{\"__metadata__\":\"pt\"}", 0), null, "__metadata__ is a JSON string");
        rejected(raw("{\"__metadata__\":{\"format\":\"pt\",\"step\":100}}", 0), null,
                "__metadata__ value of \"step\" is a JSON number, not a string");
        rejected(raw("{\"__metadata__\":{\"nested\":{}}}", 0), null, "is a JSON object, not a string");
    }

    @Test
    void absentTensorIsAnErrorNamingFileAndTensor() throws IOException {
        Path file = entry("a", F32_2, 8);
        try (SafetensorsFile read = SafetensorsFile.open(file)) {
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> read.data("b"));
            assertEquals("b", e.tensor());
            assertTrue(e.getMessage().startsWith(file + ": tensor \"b\": no such tensor"), e.getMessage());
            assertThrows(SafetensorsException.class, () -> read.entry("b"));
        }
    }

    @Test
    void directoryIsNotAFile() {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(directory));
        assertTrue(e.getMessage().contains("is a directory"));
    }

    @Test
    void whatTheFormatAllowsIsAccepted() throws IOException {
        // Leading whitespace, padding, unknown fields (ignored as the Rust reader does), zero-size
        // tensors sharing an offset, entries listed out of offset order, an empty name.
        String header = " {\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[4,8],\"extra\":[1]},"
                + "\"z\":{\"dtype\":\"I64\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
                + "\"\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"__metadata__\":{\"format\":\"pt\"}}   ";
        try (SafetensorsFile read = SafetensorsFile.open(raw(header, 8))) {
            assertEquals(List.of("b", "z", ""), read.entries().stream().map(TensorEntry::name).toList());
            assertEquals(Map.of("format", "pt"), read.metadata());
            assertArrayEquals(new byte[] {4, 5, 6, 7}, SafetensorsSamples.bytesOf(read.data("b")));
            assertEquals(0, read.data("z").byteSize());
            assertEquals(new TensorEntry("z", DType.I64, new long[] {0, 3}, 4, 4), read.entry("z"));
        }
        try (SafetensorsFile read = SafetensorsFile.open(raw("{}", 0))) {
            assertTrue(read.entries().isEmpty());
        }
    }

    @Test
    void misalignedTensorsAreCopiedToAlignedMemory() throws IOException {
        // A 7-byte header (no padding, as pre-0.3 writers did) puts the buffer at file offset 15.
        Path file = writeRaw(directory, "odd.safetensors", fileBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                new byte[] {0, 0, (byte) 0x80, 0x3f}));
        try (SafetensorsFile read = SafetensorsFile.open(file)) {
            MemorySegment data = read.data("a");
            assertEquals(0, data.address() % 4);
            assertTrue(data.isReadOnly());
            assertEquals(1.0f, data.get(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0));
            assertTrue(read.data("a") == data, "copied once");
        }
    }

    @Test
    void writerRejectsBadTensorsNamingThem() {
        MemorySegment eight = MemorySegment.ofArray(new byte[8]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TensorData("w", DType.F32, new long[] {3}, eight));
        assertTrue(e.getMessage().contains("tensor \"w\"") && e.getMessage().contains("needs 12 bytes but its data segment has 8"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TensorData("", DType.F32, new long[] {2}, eight));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TensorData("n", DType.F32, new long[] {-2}, eight));
        assertTrue(e.getMessage().contains("tensor \"n\": negative dimension"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new TensorData("o", DType.I64, new long[] {1L << 32, 1L << 31}, eight));
        assertTrue(e.getMessage().contains("tensor \"o\""), e.getMessage());
        TensorData a = new TensorData("a", DType.F32, new long[] {2}, eight);
        Path file = directory.resolve("never.safetensors");
        e = assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(file, null, List.of(a, a)));
        assertTrue(e.getMessage().contains("tensor \"a\": two tensors have this name"), e.getMessage());
        TensorData reserved = new TensorData("__metadata__", DType.F32, new long[] {2}, eight);
        e = assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(file, null, List.of(reserved)));
        assertTrue(e.getMessage().contains("tensor \"__metadata__\": the name is reserved"), e.getMessage());
        assertTrue(!Files.exists(file));
    }

    @Test
    void shardedCheckpointInconsistenciesNameTheTensorAndBothFiles() throws IOException {
        MemorySegment four = MemorySegment.ofArray(new byte[4]);
        Path one = directory.resolve("one.safetensors");
        Path two = directory.resolve("two.safetensors");
        SafetensorsWriter.write(one, null, List.of(new TensorData("a", DType.F32, new long[] {1}, four)));
        SafetensorsWriter.write(two, null, List.of(new TensorData("a", DType.F32, new long[] {1}, four),
                new TensorData("b", DType.F32, new long[] {1}, four)));
        Path index = directory.resolve("model.safetensors.index.json");

        Files.writeString(index, "{\"weight_map\":{\"a\":\"one.safetensors\",\"b\":\"two.safetensors\"}}");
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> ShardedCheckpoint.open(directory));
        assertEquals("a", e.tensor());
        assertTrue(e.getMessage().contains("is in two shards: " + one.toAbsolutePath() + " and " + two.toAbsolutePath()), e.getMessage());

        Files.writeString(index, "{\"weight_map\":{\"a\":\"one.safetensors\",\"b\":\"one.safetensors\"}}");
        e = assertThrows(SafetensorsException.class, () -> ShardedCheckpoint.open(index));
        assertEquals("b", e.tensor());
        assertTrue(e.getMessage().startsWith(index + ": tensor \"b\": is listed in shard " + one.toAbsolutePath() + " but no shard holds it"),
                e.getMessage());

        Files.writeString(index, "{\"weight_map\":{\"b\":\"two.safetensors\"}}");
        e = assertThrows(SafetensorsException.class, () -> ShardedCheckpoint.open(index));
        assertEquals("a", e.tensor());
        assertTrue(e.getMessage().contains("is in shard " + two.toAbsolutePath() + " but the index does not list it"), e.getMessage());

        Files.writeString(index, "{\"weight_map\":{\"a\":\"../one.safetensors\"}}");
        e = assertThrows(SafetensorsException.class, () -> ShardedCheckpoint.open(index));
        assertTrue(e.getMessage().contains("lies outside"), e.getMessage());

        Files.writeString(index, "{\"metadata\":{}}");
        e = assertThrows(SafetensorsException.class, () -> ShardedCheckpoint.open(index));
        assertTrue(e.getMessage().contains("no \"weight_map\""), e.getMessage());

        Files.writeString(index, "{\"weight_map\":{\"a\":1}}");
        e = assertThrows(SafetensorsException.class, () -> ShardedCheckpoint.open(index));
        assertTrue(e.getMessage().contains("tensor \"a\": weight_map value is a JSON number"), e.getMessage());

        Files.writeString(index, "{\"weight_map\":{\"a\":\"one.safetensors\"},}");
        e = assertThrows(SafetensorsException.class, () -> ShardedCheckpoint.open(index));
        assertTrue(e.getMessage().contains("malformed index JSON"), e.getMessage());
        assertNull(e.tensor());

        Files.writeString(index, "{\"weight_map\":{\"a\":\"missing.safetensors\"}}");
        e = assertThrows(SafetensorsException.class, () -> ShardedCheckpoint.open(index));
        assertEquals("a", e.tensor());
        assertTrue(e.getMessage().contains("missing.safetensors, which does not exist"), e.getMessage());

        Files.writeString(index, "{\"weight_map\":{\"a\":\"one.safetensors\"}}");
        try (ShardedCheckpoint read = ShardedCheckpoint.open(directory)) {
            assertEquals(List.of("a"), List.copyOf(read.names()));
            e = assertThrows(SafetensorsException.class, () -> read.data("b"));
            assertEquals("b", e.tensor());
        }
    }
}
