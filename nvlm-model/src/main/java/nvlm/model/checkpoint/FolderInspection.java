package nvlm.model.checkpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import nvlm.kernels.DType;
import nvlm.model.Nvlm;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.PublishedConfig;
import nvlm.tensor.io.Json;
import nvlm.tensor.io.SafetensorsFile;
import nvlm.tensor.io.ShardedCheckpoint;
import nvlm.tensor.io.TensorEntry;
import nvlm.tensor.nn.Init;

/**
 * What a model folder is, without allocating the model or reading a weight: the config (published
 * or the project's), every tensor the model expects (from a skeleton, {@link Init#shapesOnly}) with
 * its shape, and for each whether the folder holds it, in which dtype and shape (from the index and
 * the safetensors headers of the shards that are there). A folder whose shards are missing is still
 * inspected: their tensors are marked not present.
 *
 * @param format     {@code model_type} of a published config, or {@code project}
 * @param template   the prompt format ({@code chatml}, {@code Hermes-2}, or {@code project})
 * @param parameters elements of every expected tensor
 * @param bytes      bytes of every expected tensor in its stored dtype (the config's {@code torch_dtype} when absent)
 * @param tensors    every expected tensor, in the model's order
 * @param unexpected tensors the folder has and the model does not expect
 */
public record FolderInspection(Path dir, String format, NvlmConfig config, String template, long parameters, long bytes,
                               Map<String, TensorInfo> tensors, List<String> unexpected, List<String> missingShards) {

    /** One expected tensor: the model's shape, and the checkpoint's dtype and shape when the folder has it. */
    public record TensorInfo(long[] shape, DType dtype, boolean present, long[] storedShape) {
        public boolean shapeMatches() {
            return present && Arrays.equals(shape, storedShape);
        }
    }

    public static FolderInspection of(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("no model folder at " + dir);
        }
        boolean published = PublishedConfig.isPublished(dir);
        NvlmConfig config;
        String format;
        String template;
        DType declared = DType.F32;
        if (published) {
            PublishedConfig p = PublishedConfig.read(dir);
            config = p.config();
            format = p.modelType();
            template = p.template();
            declared = torchDtype(dir.resolve(PublishedConfig.CONFIG));
        } else {
            config = NvlmConfig.read(dir.resolve(Checkpoint.CONFIG));
            format = "project";
            template = "project";
        }
        Nvlm skeleton = Init.shapesOnly(() -> Nvlm.create(config, new SplittableRandom(0)));

        // Which file holds each tensor, then the headers of the files that are there.
        Map<String, String> shardOf = new LinkedHashMap<>();
        Path index = dir.resolve(ShardedCheckpoint.INDEX_FILE);
        if (Files.exists(index)) {
            Object json = Json.parse(Files.readString(index, StandardCharsets.UTF_8));
            if (!(json instanceof Map<?, ?> root) || !(root.get("weight_map") instanceof Map<?, ?> map)) {
                throw new IOException(index + ": no \"weight_map\" object");
            }
            map.forEach((k, v) -> shardOf.put((String) k, String.valueOf(v)));
        }
        Map<String, TensorEntry> stored = new LinkedHashMap<>();
        List<String> missingShards = new ArrayList<>();
        if (!shardOf.isEmpty()) {
            for (String shard : new TreeSet<>(shardOf.values())) {
                Path file = dir.resolve(shard).normalize();
                if (!file.startsWith(dir.normalize())) {
                    throw new IOException(index + ": shard \"" + shard + "\" lies outside " + dir);
                }
                if (!Files.exists(file)) {
                    missingShards.add(shard);
                    continue;
                }
                try (SafetensorsFile f = SafetensorsFile.open(file)) {
                    f.entries().forEach(e -> stored.put(e.name(), e));
                }
            }
        } else if (Files.exists(dir.resolve(ShardedCheckpoint.SINGLE_FILE))) {
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(ShardedCheckpoint.SINGLE_FILE))) {
                f.entries().forEach(e -> {
                    stored.put(e.name(), e);
                    shardOf.put(e.name(), ShardedCheckpoint.SINGLE_FILE);
                });
            }
        } else {
            missingShards.add(ShardedCheckpoint.SINGLE_FILE);
        }

        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        long parameters = 0;
        long bytes = 0;
        for (var e : skeleton.namedParameters().entrySet()) {
            long[] shape = e.getValue().value().shape();
            String name = WeightNames.storedName(config, e.getKey());
            TensorEntry s = stored.get(name);
            DType dtype = s != null ? s.dtype() : declared;
            tensors.put(name, new TensorInfo(shape, dtype, s != null, s == null ? null : s.shape()));
            long n = Arrays.stream(shape).reduce(1, Math::multiplyExact);
            parameters += n;
            bytes += n * dtype.byteSize();
        }
        TreeSet<String> unexpected = new TreeSet<>(shardOf.keySet());
        unexpected.addAll(stored.keySet());
        unexpected.removeAll(tensors.keySet());
        return new FolderInspection(dir, format, config, template, parameters, bytes, tensors, List.copyOf(unexpected),
                List.copyOf(missingShards));
    }

    private static DType torchDtype(Path config) throws IOException {
        Object t = Json.parseObject(Files.readString(config)).get("torch_dtype");
        return switch (t == null ? "float32" : t.toString()) {
            case "bfloat16" -> DType.BF16;
            case "float16" -> DType.F16;
            case "float32" -> DType.F32;
            default -> throw new IllegalArgumentException(config + ": field 'torch_dtype' must be bfloat16, float16 or float32, got " + t);
        };
    }

    public long presentCount() {
        return tensors.values().stream().filter(TensorInfo::present).count();
    }

    /** Tensors present with another shape than the model's (the position embedding of another grid is resized, so it passes). */
    public List<String> shapeMismatches() {
        List<String> out = new ArrayList<>();
        tensors.forEach((name, t) -> {
            boolean resizable = name.equals(PositionEmbedding.NAME) && t.storedShape() != null && t.storedShape().length == 3;
            if (t.present() && !t.shapeMatches() && !resizable) {
                out.add(name + ": folder " + Arrays.toString(t.storedShape()) + ", model " + Arrays.toString(t.shape()));
            }
        });
        return out;
    }

    /** Every expected tensor present with its shape, and nothing unexpected. */
    public boolean complete() {
        return presentCount() == tensors.size() && shapeMismatches().isEmpty() && unexpected.isEmpty();
    }

    /** One JSON object: architecture, parameters, bytes, tensors (name -> shape, dtype, present) and the checks. */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("folder", dir.toString());
        m.put("architecture", format.equals("project") ? "NVLM-" + config.architecture() : format);
        m.put("prompt_format", template);
        m.put("parameters", parameters);
        m.put("bytes", bytes);
        m.put("complete", complete());
        m.put("present", presentCount());
        m.put("expected", (long) tensors.size());
        m.put("missing_shards", missingShards);
        m.put("unexpected", unexpected);
        m.put("shape_mismatches", shapeMismatches());
        Map<String, Object> ts = new TreeMap<>();
        tensors.forEach((name, t) -> {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("shape", Arrays.stream(t.shape()).boxed().toList());
            o.put("dtype", t.dtype().name());
            o.put("present", t.present());
            ts.put(name, o);
        });
        m.put("tensors", ts);
        return Json.writePretty(m);
    }

    /** A few lines for people. */
    public String summary() {
        var v = config.vision();
        var l = config.llm();
        StringBuilder sb = new StringBuilder();
        sb.append(dir).append('\n');
        sb.append(String.format(java.util.Locale.ROOT, "  architecture  %s (%s)%n", format.equals("project") ? "NVLM-" + config.architecture()
                : format, format.equals("project") ? "project folder" : "published folder"));
        if (v == null) {
            sb.append("  vision        none: a text-only decoder (images are refused)\n");
        } else {
            sb.append(String.format(java.util.Locale.ROOT, "  vision        InternViT %d layers, width %d, %d heads%s, %s, %dpx tiles, %d..%d tiles%s%n",
                    v.numLayers(), v.hiddenSize(), v.numHeads(), v.numDummyHeads() > 0 ? " (+" + v.numDummyHeads() + " dummy)" : "",
                    v.normType(), v.imageSize(), config.tiling().minTiles(), config.tiling().maxTiles(),
                    config.tiling().useThumbnail() ? " + thumbnail" : ""));
        }
        sb.append(String.format(java.util.Locale.ROOT, "  decoder       Qwen2 %d layers, width %d, %d heads / %d KV, vocab %d, rope theta %.0f%s%n",
                l.numLayers(), l.hiddenSize(), l.numHeads(), l.numKvHeads(), l.vocabSize(), l.ropeTheta(),
                l.ropeScalingFactor() > 1 ? String.format(java.util.Locale.ROOT, " (dynamic NTK x%.1f beyond %d)", l.ropeScalingFactor(),
                        l.maxPositionEmbeddings()) : ""));
        sb.append(v == null ? String.format(java.util.Locale.ROOT, "  prompt        %s%n", template)
                : String.format(java.util.Locale.ROOT, "  prompt        %s, %d image tokens per tile%n", template, config.tokensPerTile()));
        sb.append(String.format(java.util.Locale.ROOT, "  parameters    %,d (%.2f GB of weights)%n", parameters, bytes / 1e9));
        sb.append(String.format(java.util.Locale.ROOT, "  tensors       %d expected, %d present, %d shape mismatches, %d unexpected%s%n",
                tensors.size(), presentCount(), shapeMismatches().size(), unexpected.size(),
                missingShards.isEmpty() ? "" : ", " + missingShards.size() + " shard files missing"));
        shapeMismatches().stream().limit(10).forEach(s -> sb.append("    mismatch ").append(s).append('\n'));
        unexpected.stream().limit(10).forEach(s -> sb.append("    unexpected ").append(s).append('\n'));
        sb.append(complete() ? "  complete: every expected tensor is there with its shape\n" : "  NOT complete\n");
        return sb.toString();
    }
}
