package nvlm.tensor.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nvlm.tensor.Device;
import nvlm.tensor.Tensor;

/**
 * Tensors to and from safetensors files: the tensor-level face of {@link SafetensorsFile},
 * {@link SafetensorsWriter} and {@link ShardedCheckpoint}.
 */
public final class Safetensors {
    private Safetensors() {
    }

    /**
     * Reads every tensor of a file, a sharded index, or a model directory into CPU tensors
     * (copied out of the memory mapping, which is closed before returning).
     */
    public static Map<String, Tensor> load(Path path) throws IOException {
        try (ShardedCheckpoint checkpoint = ShardedCheckpoint.open(path)) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (String name : checkpoint.names()) {
                out.put(name, read(checkpoint, name));
            }
            return out;
        }
    }

    /** One tensor of an open checkpoint as a CPU tensor (a copy). */
    public static Tensor read(ShardedCheckpoint checkpoint, String name) throws IOException {
        TensorEntry entry = checkpoint.entry(name);
        return Tensor.fromSegment(checkpoint.data(name), entry.dtype(), entry.shape()).name(name);
    }

    /** Writes tensors (any device, any layout) to one file, atomically. */
    public static void save(Path file, Map<String, Tensor> tensors) throws IOException {
        save(file, tensors, Map.of());
    }

    public static void save(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        SafetensorsWriter.write(file, metadata, toData(tensors));
    }

    /** Writes a checkpoint directory, split into shards of at most {@code maxShardBytes} with an index. */
    public static void saveSharded(Path directory, Map<String, Tensor> tensors, long maxShardBytes) throws IOException {
        ShardedCheckpoint.write(directory, Map.of("format", "pt"), toData(tensors), maxShardBytes);
    }

    private static List<TensorData> toData(Map<String, Tensor> tensors) {
        List<TensorData> data = new ArrayList<>(tensors.size());
        tensors.forEach((name, t) -> {
            Tensor c = t.detach().to(Device.CPU).contiguous();
            data.add(new TensorData(name, c.dtype(), c.shape(), c.segment()));
        });
        return data;
    }
}
