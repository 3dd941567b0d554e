package nvlm.model.checkpoint;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Consumer;
import nvlm.kernels.DType;
import nvlm.model.Nvlm;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.PublishedConfig;
import nvlm.tensor.io.Json;
import nvlm.tensor.io.SafetensorsWriter;
import nvlm.tensor.io.ShardedCheckpoint;
import nvlm.tensor.io.TensorData;
import nvlm.tensor.nn.Init;

/**
 * Writes a folder in a published layout with random weights: the small files of a published folder
 * (config.json, optionally edited, e.g. shrunk; tokenizer and preprocessor files copied as they are)
 * and BF16 or F32 weights under the published names and shapes, sharded as Hugging Face shards
 * them, with the index. What a user's download looks like, without the download: used by the
 * parity tests and to measure loading (docs/results.md). Norm weights are 1, layer scales 0.1,
 * biases 0, everything else N(0, 0.02), so generation runs without overflow.
 */
public final class RandomPublishedFolder {
    private RandomPublishedFolder() {
    }

    /** Files copied from the source folder when present (config.json is written from the edited tree). */
    static final List<String> SMALL_FILES = List.of("tokenizer.json", "vocab.json", "merges.txt", "added_tokens.json",
            "special_tokens_map.json", "tokenizer_config.json", "preprocessor_config.json", "generation_config.json");

    /**
     * Writes {@code dir} from the published small files in {@code source}, with {@code editConfig}
     * applied to config.json's tree; returns the config read back.
     */
    public static NvlmConfig write(Path dir, Path source, Consumer<Map<String, Object>> editConfig, DType dtype, long seed,
                                   long maxShardBytes) throws IOException {
        if (dtype != DType.BF16 && dtype != DType.F32) {
            throw new IllegalArgumentException("random published folders are BF16 or F32, not " + dtype);
        }
        Files.createDirectories(dir);
        Map<String, Object> root = Json.parseObject(Files.readString(source.resolve(PublishedConfig.CONFIG)));
        editConfig.accept(root);
        Files.writeString(dir.resolve(PublishedConfig.CONFIG), Json.writePretty(root));
        for (String f : SMALL_FILES) {
            if (Files.exists(source.resolve(f))) {
                Files.copy(source.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        NvlmConfig config = PublishedConfig.read(dir).config();
        Nvlm skeleton = Init.shapesOnly(() -> Nvlm.create(config, new SplittableRandom(0)));
        SplittableRandom rng = new SplittableRandom(seed);
        List<List<String>> shards = new ArrayList<>();
        List<String> current = new ArrayList<>();
        long currentBytes = 0;
        Map<String, long[]> shapes = new LinkedHashMap<>();
        skeleton.namedParameters().forEach((name, p) -> shapes.put(WeightNames.storedName(config, name), p.value().shape()));
        for (var e : shapes.entrySet()) {
            long bytes = numel(e.getValue()) * dtype.byteSize();
            if (!current.isEmpty() && currentBytes + bytes > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(e.getKey());
            currentBytes += bytes;
        }
        shards.add(current);
        Files.deleteIfExists(dir.resolve(ShardedCheckpoint.INDEX_FILE));
        Files.deleteIfExists(dir.resolve(ShardedCheckpoint.SINGLE_FILE));
        Map<String, Object> weightMap = new TreeMap<>();
        long total = 0;
        for (int i = 0; i < shards.size(); i++) {
            String file = shards.size() == 1 ? ShardedCheckpoint.SINGLE_FILE
                    : String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            try (Arena arena = Arena.ofConfined()) {
                List<TensorData> data = new ArrayList<>();
                for (String name : shards.get(i)) {
                    long[] shape = shapes.get(name);
                    data.add(new TensorData(name, dtype, shape, random(arena, name, shape, dtype, rng)));
                    weightMap.put(name, file);
                    total += numel(shape) * dtype.byteSize();
                }
                SafetensorsWriter.write(dir.resolve(file), Map.of("format", "pt"), data);
            }
        }
        if (shards.size() > 1) {
            Map<String, Object> index = new LinkedHashMap<>();
            index.put("metadata", Map.of("total_size", total));
            index.put("weight_map", weightMap);
            Files.writeString(dir.resolve(ShardedCheckpoint.INDEX_FILE), Json.writePretty(index));
        }
        return config;
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private static MemorySegment random(Arena arena, String name, long[] shape, DType dtype, SplittableRandom rng) {
        long n = numel(shape);
        MemorySegment seg = arena.allocate(n * dtype.byteSize(), dtype.byteSize());
        String last = name.substring(name.lastIndexOf('.') + 1);
        boolean norm = (name.contains("norm") && last.equals("weight")) || name.equals("mlp1.0.weight");
        boolean scale = last.equals("ls1") || last.equals("ls2");
        boolean bias = last.equals("bias");
        for (long i = 0; i < n; i++) {
            float v = norm ? 1f : scale ? 0.1f : bias ? 0f : (float) (rng.nextGaussian() * 0.02);
            if (dtype == DType.BF16) {
                int bits = Float.floatToRawIntBits(v);
                bits += 0x7FFF + ((bits >>> 16) & 1); // round to nearest even
                seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, i * 2, (short) (bits >>> 16));
            } else {
                seg.set(ValueLayout.JAVA_FLOAT_UNALIGNED, i * 4, v);
            }
        }
        return seg;
    }
}
