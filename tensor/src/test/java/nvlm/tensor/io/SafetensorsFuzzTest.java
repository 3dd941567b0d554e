package nvlm.tensor.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * Arbitrary bytes as a safetensors file: either a SafetensorsException, or a file whose every
 * tensor reads in bounds and whose header re-encodes to the same entries. Anything else (another
 * exception, an out-of-bounds access, an assertion) is a finding.
 *
 * <p>A plain test run replays the inputs under
 * {@code src/test/resources/nvlm/tensor/io/SafetensorsFuzzTestInputs/}; {@code JAZZER_FUZZ=1}
 * fuzzes for {@code maxDuration}.
 */
class SafetensorsFuzzTest {
    private static final Path NAME = Path.of("fuzz.safetensors");

    @FuzzTest(maxDuration = "60s")
    void arbitraryBytesAreReadInBoundsOrRejectedWithSafetensorsException(byte[] input) throws SafetensorsException {
        MemorySegment contents = MemorySegment.ofArray(input).asReadOnly();
        Arena arena = Arena.ofConfined();
        SafetensorsFile file;
        try {
            file = new SafetensorsFile(NAME, contents, arena);
        } catch (SafetensorsException rejected) {
            assertTrue(rejected.getMessage().startsWith(NAME.toString()), rejected.getMessage());
            arena.close();
            return;
        }
        try (file) {
            SafetensorsHeader header = SafetensorsHeader.read(NAME, contents);
            long bufferLength = input.length - header.dataStart();
            long covered = 0;
            for (TensorEntry entry : file.entries()) {
                MemorySegment data = file.data(entry.name());
                assertEquals(entry.byteSize(), data.byteSize());
                assertEquals(entry.numel() * entry.dtype().byteSize(), entry.byteSize());
                assertTrue(entry.end() <= bufferLength);
                if (data.byteSize() > 0) {
                    data.get(ValueLayout.JAVA_BYTE, data.byteSize() - 1);
                }
                covered += entry.byteSize();
            }
            assertEquals(bufferLength, covered, "tensors tile the buffer");

            // Writing the parsed header back gives a header that parses to the same thing.
            byte[] prefix = SafetensorsHeader.encode(file.metadata(), file.entries());
            byte[] rewritten = new byte[(int) (prefix.length + bufferLength)];
            System.arraycopy(prefix, 0, rewritten, 0, prefix.length);
            System.arraycopy(input, (int) header.dataStart(), rewritten, prefix.length, (int) bufferLength);
            SafetensorsHeader again = SafetensorsHeader.read(NAME, MemorySegment.ofArray(rewritten));
            assertEquals(file.entries(), again.entries());
            assertEquals(file.metadata(), again.metadata());
        }
    }
}
