package nvlm.tensor.io;

import static nvlm.tensor.io.SafetensorsSamples.bytesOf;
import static nvlm.tensor.io.SafetensorsSamples.randomMetadata;
import static nvlm.tensor.io.SafetensorsSamples.randomTensors;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import nvlm.kernels.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {
    @TempDir
    Path directory;

    @Test
    void writtenTensorsReadBackWithIdenticalEntriesAndBytes() {
        Path file = directory.resolve("model.safetensors");
        qt().withExamples(200).forAll(longs().all()).checkAssert(seed -> {
            SplittableRandom random = new SplittableRandom(seed);
            List<TensorData> tensors = randomTensors(random);
            Map<String, String> metadata = randomMetadata(random);
            try {
                SafetensorsWriter.write(file, metadata, tensors);
                try (SafetensorsFile read = SafetensorsFile.open(file)) {
                    assertEquals(metadata, read.metadata());
                    assertEquals(tensors.size(), read.entries().size());
                    for (TensorData tensor : tensors) {
                        TensorEntry entry = read.entry(tensor.name());
                        assertEquals(tensor.dtype(), entry.dtype());
                        assertArrayEquals(tensor.shape(), entry.shape());
                        MemorySegment data = read.data(tensor.name());
                        assertArrayEquals(bytesOf(tensor.data()), bytesOf(data), tensor.name());
                        assertTrue(data.isReadOnly());
                        // Zero copy: the writer aligns every tensor, so data() is a slice of the mapping.
                        assertTrue(data.isMapped(), tensor.name());
                        assertEquals(0, data.address() % tensor.dtype().byteSize(), tensor.name());
                    }
                    checkRustLayout(file, read);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try (Stream<Path> left = Files.list(directory)) {
            assertEquals(List.of(file), left.toList(), "temporary files left behind");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Header padded to 8, tensors in header order = buffer order = dtype widest first then name, no gaps. */
    private static void checkRustLayout(Path file, SafetensorsFile read) throws IOException {
        byte[] contents = Files.readAllBytes(file);
        long n = MemorySegment.ofArray(contents).get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        assertEquals(0, n % 8);
        long offset = 0;
        List<TensorData> asData = new ArrayList<>();
        for (TensorEntry entry : read.entries()) {
            assertEquals(offset, entry.begin());
            offset = entry.end();
            asData.add(new TensorData(entry.name(), entry.dtype(), entry.shape(), read.data(entry.name())));
        }
        assertEquals(contents.length, 8 + n + offset);
        List<TensorData> sorted = new ArrayList<>(asData);
        sorted.sort(SafetensorsWriter.RUST_ORDER);
        assertEquals(sorted.stream().map(TensorData::name).toList(), asData.stream().map(TensorData::name).toList());
    }

    @Test
    void rustOrderPutsWiderDtypesFirstThenNamesInCodePointOrder() {
        MemorySegment empty = MemorySegment.ofArray(new byte[0]);
        List<TensorData> tensors = new ArrayList<>();
        for (DType dtype : DType.values()) {
            for (String name : List.of("b", "a", "\uFF21", "\uD83D\uDE00")) {
                tensors.add(new TensorData(dtype + name, dtype, new long[] {0}, empty));
            }
        }
        tensors.sort(SafetensorsWriter.RUST_ORDER);
        // U+FF21 sorts before U+1F600 by code point, after it by UTF-16 unit (0xD83D < 0xFF21).
        assertEquals(List.of("I64a", "I64b", "I64\uFF21", "I64\uD83D\uDE00", "F32a", "F32b", "F32\uFF21", "F32\uD83D\uDE00"),
                tensors.subList(0, 8).stream().map(TensorData::name).toList());
        assertEquals(List.of(DType.I64, DType.F32, DType.I32, DType.BF16, DType.F16, DType.BOOL),
                tensors.stream().map(TensorData::dtype).distinct().toList());
    }

    @Test
    void shardedWritesReadBackThroughTheIndexWithTotalSize() {
        qt().withExamples(60).forAll(longs().all()).checkAssert(seed -> {
            SplittableRandom random = new SplittableRandom(seed);
            List<TensorData> tensors = randomTensors(random);
            long total = tensors.stream().mapToLong(t -> t.data().byteSize()).sum();
            long maxShardBytes = 1 + random.nextLong(Math.max(1, total + total / 4));
            try {
                Path checkpoint = Files.createTempDirectory(directory, "checkpoint");
                ShardedCheckpoint.write(checkpoint, Map.of("format", "pt"), tensors, maxShardBytes);
                List<List<String>> expectedShards = greedyShards(tensors, maxShardBytes);
                try (ShardedCheckpoint read = ShardedCheckpoint.open(checkpoint)) {
                    assertEquals(tensors.stream().map(TensorData::name).collect(Collectors.toSet()), read.names());
                    for (TensorData tensor : tensors) {
                        assertEquals(tensor.dtype(), read.entry(tensor.name()).dtype());
                        assertArrayEquals(tensor.shape(), read.entry(tensor.name()).shape());
                        assertArrayEquals(bytesOf(tensor.data()), bytesOf(read.data(tensor.name())));
                    }
                    assertEquals(expectedShards.size(), read.files().size());
                    for (int s = 0; s < expectedShards.size(); s++) {
                        SafetensorsFile shard = read.files().get(s);
                        assertEquals(new HashSet<>(expectedShards.get(s)),
                                shard.entries().stream().map(TensorEntry::name).collect(Collectors.toSet()));
                        long shardBytes = shard.entries().stream().mapToLong(TensorEntry::byteSize).sum();
                        assertTrue(shardBytes <= maxShardBytes || shard.entries().size() == 1);
                        assertEquals(Map.of("format", "pt"), shard.metadata());
                        for (String name : expectedShards.get(s)) {
                            assertEquals(shard, read.fileOf(name));
                        }
                    }
                }
                Path index = checkpoint.resolve(ShardedCheckpoint.INDEX_FILE);
                if (expectedShards.size() == 1) {
                    assertFalse(Files.exists(index));
                    assertTrue(Files.exists(checkpoint.resolve(ShardedCheckpoint.SINGLE_FILE)));
                } else {
                    Map<String, Object> json = Json.parseObject(Files.readString(index));
                    assertEquals(Map.of("total_size", total), json.get("metadata"));
                    Map<?, ?> weightMap = (Map<?, ?>) json.get("weight_map");
                    assertEquals(tensors.size(), weightMap.size());
                    for (int s = 0; s < expectedShards.size(); s++) {
                        String shardName = String.format("model-%05d-of-%05d.safetensors", s + 1, expectedShards.size());
                        for (String name : expectedShards.get(s)) {
                            assertEquals(shardName, weightMap.get(name));
                        }
                    }
                    try (ShardedCheckpoint viaIndex = ShardedCheckpoint.open(index)) {
                        assertEquals(tensors.size(), viaIndex.names().size());
                    }
                    List<String> files;
                    try (Stream<Path> listing = Files.list(checkpoint)) {
                        files = listing.map(p -> p.getFileName().toString()).sorted().toList();
                    }
                    assertEquals(expectedShards.size() + 1, files.size(), files.toString());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** The split the writer promises: fill in the given order, start a new shard when the next tensor would not fit. */
    private static List<List<String>> greedyShards(List<TensorData> tensors, long maxShardBytes) {
        List<List<String>> shards = new ArrayList<>();
        List<String> current = new ArrayList<>();
        long bytes = 0;
        for (TensorData tensor : tensors) {
            if (!current.isEmpty() && bytes + tensor.data().byteSize() > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(tensor.name());
            bytes += tensor.data().byteSize();
        }
        shards.add(current);
        return shards;
    }

    @Test
    void aSingleFileWriteRemovesAStaleIndexThatWouldShadowIt() throws IOException {
        byte[] four = {1, 2, 3, 4};
        List<TensorData> two = List.of(
                new TensorData("a", DType.F32, new long[] {1}, MemorySegment.ofArray(four)),
                new TensorData("b", DType.F32, new long[] {1}, MemorySegment.ofArray(four)));
        ShardedCheckpoint.write(directory, Map.of(), two, 4);
        assertTrue(Files.exists(directory.resolve(ShardedCheckpoint.INDEX_FILE)));
        ShardedCheckpoint.write(directory, Map.of(), two.subList(0, 1), 4);
        try (ShardedCheckpoint read = ShardedCheckpoint.open(directory)) {
            assertEquals(List.of("a"), List.copyOf(read.names()));
            assertEquals(directory.resolve(ShardedCheckpoint.SINGLE_FILE), read.fileOf("a").path());
        }
    }

    @Test
    void dataOfAClosedFileIsRefusedAndCloseIsIdempotent() throws IOException {
        Path file = directory.resolve("x.safetensors");
        SafetensorsWriter.write(file, null, List.of(new TensorData("t", DType.I32, new long[] {2},
                MemorySegment.ofArray(new int[] {7, 8}))));
        SafetensorsFile read = SafetensorsFile.open(file);
        MemorySegment data = read.data("t");
        assertEquals(7, data.get(ValueLayout.JAVA_INT, 0));
        assertEquals(8, data.get(ValueLayout.JAVA_INT, 4));
        read.close();
        read.close();
        assertThrows(IllegalStateException.class, () -> read.data("t"));
        assertThrows(IllegalStateException.class, () -> data.get(ValueLayout.JAVA_BYTE, 0));
        assertEquals(Map.of(), read.metadata());
    }
}
