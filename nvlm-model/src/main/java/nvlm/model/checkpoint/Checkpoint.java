package nvlm.model.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.kernels.DType;
import nvlm.model.Nvlm;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.PublishedConfig;
import nvlm.tensor.Device;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Init;
import nvlm.tensor.io.Safetensors;
import nvlm.tensor.io.ShardedCheckpoint;

/**
 * Model folders in Hugging Face layout (docs/model.md §9, §10): {@code config.json} plus
 * {@code model.safetensors} or shards with {@code model.safetensors.index.json}, weights in F32,
 * BF16 or F16 under the names of docs/model.md §9 or transformers' InternVL names.
 */
public final class Checkpoint {
    public static final String CONFIG = "config.json";

    private Checkpoint() {
    }

    /** Follows {@link #load}: bytes of tensor data read so far, and in all. */
    public interface LoadProgress {
        void read(long bytes, long totalBytes);
    }

    /** The config of a project folder or of a published one ({@link PublishedConfig}). */
    public static NvlmConfig configOf(Path dir) throws IOException {
        return PublishedConfig.isPublished(dir) ? PublishedConfig.read(dir).config() : NvlmConfig.read(dir.resolve(CONFIG));
    }

    /** Reads a model folder onto a device: every missing, unexpected or mis-shaped tensor is reported by name in one error. */
    public static Nvlm load(Path dir, Device device) throws IOException {
        return load(dir, device, (bytes, total) -> {
        });
    }

    /** {@link #load(Path, Device)}, telling {@code progress} after each tensor read. */
    public static Nvlm load(Path dir, Device device, LoadProgress progress) throws IOException {
        NvlmConfig config = configOf(dir);
        // Every parameter is overwritten below (strict), so no random values are drawn.
        Nvlm model = Init.skipped(() -> Nvlm.create(config, new SplittableRandom(0)));
        Map<String, Tensor> weights = new LinkedHashMap<>();
        try (ShardedCheckpoint checkpoint = ShardedCheckpoint.open(dir)) {
            long total = 0;
            for (String name : checkpoint.names()) {
                total += checkpoint.entry(name).byteSize();
            }
            long read = 0;
            for (String name : checkpoint.names()) {
                weights.put(name, Safetensors.read(checkpoint, name));
                read += checkpoint.entry(name).byteSize();
                progress.read(read, total);
            }
        }
        Map<String, Tensor> mapped = WeightNames.toSpecNames(weights, config);
        PositionEmbedding.resizeIfNeeded(mapped, config);
        try {
            model.loadStateDict(mapped, true);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(dir + ": " + e.getMessage(), e);
        }
        model.to(device);
        return model;
    }

    /**
     * Writes config.json and the weights ({@code dtype} F32, BF16 or F16), in one file or shards of
     * at most {@code maxShardBytes}. Each file is written atomically.
     */
    public static void save(Nvlm model, Path dir, DType dtype, long maxShardBytes) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> state = new LinkedHashMap<>();
        model.stateDict().forEach((name, t) -> state.put(name, t.detach().to(dtype)));
        long total = 0;
        for (Tensor t : state.values()) {
            total += t.numel() * dtype.byteSize();
        }
        if (total <= maxShardBytes) {
            Safetensors.save(dir.resolve(ShardedCheckpoint.SINGLE_FILE), state, Map.of("format", "pt"));
            Files.deleteIfExists(dir.resolve(ShardedCheckpoint.INDEX_FILE));
        } else {
            Safetensors.saveSharded(dir, state, maxShardBytes);
            Files.deleteIfExists(dir.resolve(ShardedCheckpoint.SINGLE_FILE));
        }
        model.config().write(dir.resolve(CONFIG));
    }

    public static void save(Nvlm model, Path dir) throws IOException {
        save(model, dir, DType.F32, Long.MAX_VALUE);
    }
}
