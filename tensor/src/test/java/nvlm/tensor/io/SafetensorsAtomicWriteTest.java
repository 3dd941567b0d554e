package nvlm.tensor.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import nvlm.kernels.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A write that fails leaves the target as it was and no temporary file behind. */
class SafetensorsAtomicWriteTest {
    @TempDir
    Path directory;

    /** A tensor whose memory is already freed: reading it fails, but only once the writer gets to its bytes. */
    private static TensorData freedTensor(String name) {
        MemorySegment freed;
        try (Arena arena = Arena.ofConfined()) {
            freed = arena.allocate(1 << 16);
        }
        return new TensorData(name, DType.F16, new long[] {1 << 15}, freed);
    }

    /** Big enough that the header and some data are already in the temporary file when the freed tensor fails. */
    private static TensorData bigTensor(String name) {
        byte[] bytes = new byte[3 << 20];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 31);
        }
        return new TensorData(name, DType.F32, new long[] {bytes.length / 4}, MemorySegment.ofArray(bytes));
    }

    private List<String> listing() throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void failingMidwayLeavesAnExistingTargetUntouched() throws IOException {
        Path file = directory.resolve("model.safetensors");
        SafetensorsWriter.write(file, Map.of("step", "1"), List.of(bigTensor("w")));
        byte[] before = Files.readAllBytes(file);
        // Writer order is widest dtype first, so the F32 tensor's 3 MiB go out before the F16 one fails.
        assertThrows(IllegalStateException.class,
                () -> SafetensorsWriter.write(file, Map.of("step", "2"), List.of(freedTensor("late"), bigTensor("w"))));
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of("model.safetensors"), listing());
        try (SafetensorsFile read = SafetensorsFile.open(file)) {
            assertEquals(Map.of("step", "1"), read.metadata());
        }
    }

    @Test
    void failingMidwayWithNoTargetLeavesNothing() throws IOException {
        Path file = directory.resolve("model.safetensors");
        assertThrows(IllegalStateException.class,
                () -> SafetensorsWriter.write(file, null, List.of(bigTensor("w"), freedTensor("late"))));
        assertEquals(List.of(), listing());
    }

    @Test
    void failingRenameLeavesNoTemporaryFile() throws IOException {
        Path target = Files.createDirectory(directory.resolve("taken.safetensors"));
        Files.writeString(target.resolve("keep"), "x");
        assertThrows(IOException.class, () -> SafetensorsWriter.write(target, null, List.of(bigTensor("w"))));
        assertEquals(List.of("taken.safetensors"), listing());
        assertEquals("x", Files.readString(target.resolve("keep")));
    }

    @Test
    void aShardedWriteThatFailsWritesNoIndex() throws IOException {
        assertThrows(IllegalStateException.class, () -> ShardedCheckpoint.write(directory, null,
                List.of(bigTensor("a"), freedTensor("b")), 1 << 20));
        List<String> files = listing();
        assertEquals(List.of("model-00001-of-00002.safetensors"), files);
        assertFalse(Files.exists(directory.resolve(ShardedCheckpoint.INDEX_FILE)));
    }
}
