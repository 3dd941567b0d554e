package nvlm.model.checkpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import nvlm.kernels.DType;
import nvlm.model.Nvlm;
import nvlm.model.config.NvlmConfig;
import nvlm.tensor.Tensor;
import nvlm.tensor.io.Safetensors;
import nvlm.tensor.io.ShardedCheckpoint;
import nvlm.tensor.io.TensorEntry;
import nvlm.tensor.nn.Init;
import nvlm.tensor.nn.Parameter;

/**
 * A model for inference whose matrices are the checkpoint's own bytes (docs/model.md §9): the
 * skeleton is built without memory ({@link Init#shapesOnly}), then every 2-D weight (the linears
 * and the embedding table, nearly all of the bytes) views the memory-mapped safetensors file in its
 * stored dtype (BF16 GEMM reads it directly), and the small vectors and vision embeddings are copied
 * to F32. Nothing is read from disk until a tensor is first used, and the OS may drop the pages
 * again under memory pressure: a BF16 folder of N bytes needs about N of resident memory, not the
 * 2N + 4N of a random F32 model and a copy. Parameters are frozen. Closing unmaps the files; the
 * model must not be used after that.
 */
public final class MappedModel implements AutoCloseable {
    private final Nvlm model;
    private final ShardedCheckpoint checkpoint;

    private MappedModel(Nvlm model, ShardedCheckpoint checkpoint) {
        this.model = model;
        this.checkpoint = checkpoint;
    }

    public Nvlm model() {
        return model;
    }

    /**
     * Maps {@code dir}'s weights (one file, or shards with an index) onto a skeleton of {@code config}.
     * Every missing, unexpected or mis-shaped tensor is reported by name in one error naming the folder.
     */
    public static MappedModel open(Path dir, NvlmConfig config) throws IOException {
        Nvlm model = Init.shapesOnly(() -> Nvlm.create(config, new SplittableRandom(0)));
        ShardedCheckpoint checkpoint = ShardedCheckpoint.open(dir);
        try {
            // Parameter name -> the name the folder stores it under (a bare Qwen2 folder has no language_model. prefix).
            Map<String, Parameter> params = new LinkedHashMap<>();
            model.namedParameters().forEach((name, p) -> params.put(WeightNames.storedName(config, name), p));
            List<String> missing = new ArrayList<>();
            List<String> mismatched = new ArrayList<>();
            for (var e : params.entrySet()) {
                if (!checkpoint.contains(e.getKey())) {
                    missing.add(e.getKey());
                    continue;
                }
                TensorEntry entry = checkpoint.entry(e.getKey());
                long[] expected = e.getValue().value().shape();
                boolean resizable = e.getKey().equals(PositionEmbedding.NAME) && entry.rank() == 3;
                if (!Arrays.equals(entry.shape(), expected) && !resizable) {
                    mismatched.add(e.getKey() + ": checkpoint " + Arrays.toString(entry.shape()) + ", model " + Arrays.toString(expected));
                }
            }
            TreeSet<String> unexpected = new TreeSet<>(checkpoint.names());
            unexpected.removeAll(params.keySet());
            if (!missing.isEmpty() || !mismatched.isEmpty() || !unexpected.isEmpty()) {
                StringBuilder sb = new StringBuilder(dir + ": the weights do not fit the config's model:");
                if (!missing.isEmpty()) {
                    sb.append("\n  missing (").append(missing.size()).append("): ").append(String.join(", ", head(missing)));
                }
                if (!unexpected.isEmpty()) {
                    sb.append("\n  unexpected (").append(unexpected.size()).append("): ")
                            .append(String.join(", ", head(new ArrayList<>(unexpected))));
                }
                if (!mismatched.isEmpty()) {
                    sb.append("\n  shape mismatch (").append(mismatched.size()).append("): ").append(String.join("; ", head(mismatched)));
                }
                throw new IllegalArgumentException(sb.toString());
            }
            Map<String, Tensor> small = new LinkedHashMap<>();
            for (var e : params.entrySet()) {
                Parameter p = e.getValue();
                p.trainable(false);
                TensorEntry entry = checkpoint.entry(e.getKey());
                if (entry.rank() == 2 && entry.dtype().isFloatingPoint()) {
                    p.set(Tensor.mapped(checkpoint.data(e.getKey()), entry.dtype(), entry.shape()));
                } else {
                    small.put(e.getKey(), Safetensors.read(checkpoint, e.getKey()).to(DType.F32));
                }
            }
            PositionEmbedding.resizeIfNeeded(small, config);
            small.forEach((name, t) -> params.get(name).set(t));
            return new MappedModel(model, checkpoint);
        } catch (IOException | RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    private static List<String> head(List<String> names) {
        return names.size() <= 20 ? names : List.of(String.join(", ", names.subList(0, 20)), "... " + (names.size() - 20) + " more");
    }

    /** Bytes of the mapped weights (the size of the folder's tensor data). */
    public long mappedBytes() throws IOException {
        long total = 0;
        for (String name : checkpoint.names()) {
            total += checkpoint.entry(name).byteSize();
        }
        return total;
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
