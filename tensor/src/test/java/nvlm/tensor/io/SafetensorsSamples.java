package nvlm.tensor.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import nvlm.kernels.DType;

/** Random tensor sets and hand-made files for the safetensors tests. */
final class SafetensorsSamples {
    private SafetensorsSamples() {
    }

    /** 0 to 7 tensors of every dtype: scalars, zero-size dimensions, random shapes and bytes, awkward names. */
    static List<TensorData> randomTensors(SplittableRandom random) {
        int count = random.nextInt(8);
        Set<String> names = new LinkedHashSet<>();
        while (names.size() < count) {
            names.add(randomName(random));
        }
        List<TensorData> tensors = new ArrayList<>();
        for (String name : names) {
            DType dtype = DType.values()[random.nextInt(DType.values().length)];
            long[] shape = new long[random.nextInt(5)];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = random.nextInt(8) == 0 ? 0 : 1 + random.nextInt(random.nextBoolean() ? 3 : 7);
            }
            byte[] bytes = new byte[(int) (TensorEntry.numelExact(shape) * dtype.byteSize())];
            random.nextBytes(bytes);
            tensors.add(new TensorData(name, dtype, shape, MemorySegment.ofArray(bytes)));
        }
        return tensors;
    }

    private static String randomName(SplittableRandom random) {
        return switch (random.nextInt(4)) {
            case 0 -> "language_model.model.layers." + random.nextInt(40) + ".self_attn.q_proj.weight";
            case 1 -> "vision_model.encoder.layers." + random.nextInt(3) + ".mlp.fc" + random.nextInt(3) + ".bias";
            case 2 -> String.valueOf((char) ('a' + random.nextInt(26)));
            default -> {
                String s = JsonTest.randomString(random);
                yield s.isEmpty() || s.equals(SafetensorsHeader.METADATA_KEY) ? "x" + random.nextInt(1000) : s;
            }
        };
    }

    static Map<String, String> randomMetadata(SplittableRandom random) {
        Map<String, String> metadata = new LinkedHashMap<>();
        int n = random.nextInt(4);
        for (int i = 0; i < n; i++) {
            metadata.put(JsonTest.randomString(random), JsonTest.randomString(random));
        }
        return metadata;
    }

    static byte[] bytesOf(MemorySegment segment) {
        return segment.toArray(ValueLayout.JAVA_BYTE);
    }

    /** A file made of an 8-byte length, the header text as given (no padding) and {@code buffer}. */
    static byte[] fileBytes(String header, byte[] buffer) {
        byte[] text = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + text.length + buffer.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(text.length).put(text).put(buffer).array();
    }

    /** Writes a hand-made file whose data buffer holds {@code bufferLength} bytes 0, 1, 2, ... */
    static Path writeRaw(Path directory, String fileName, String header, int bufferLength) throws IOException {
        byte[] buffer = new byte[bufferLength];
        for (int i = 0; i < bufferLength; i++) {
            buffer[i] = (byte) i;
        }
        return Files.write(directory.resolve(fileName), fileBytes(header, buffer));
    }

    static Path writeRaw(Path directory, String fileName, byte[] contents) throws IOException {
        return Files.write(directory.resolve(fileName), contents);
    }
}
