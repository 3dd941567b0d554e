package nvlm.tensor.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A checkpoint as Hugging Face stores one: a single {@code model.safetensors}, or shards
 * {@code model-00001-of-0000N.safetensors} listed by {@code model.safetensors.index.json}
 * (REFERENCE.md section 6), seen as one set of tensors by name.
 */
public final class ShardedCheckpoint implements AutoCloseable {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    /** An index is a few MB even for the largest models; this bounds what a corrupt one can make us read. */
    private static final long MAX_INDEX_BYTES = 100_000_000L;

    private final Path source;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byName;

    private ShardedCheckpoint(Path source, List<SafetensorsFile> files, Map<String, SafetensorsFile> byName) {
        this.source = source;
        this.files = files;
        this.byName = byName;
    }

    /**
     * Opens a directory (its index when there is one, else its {@code model.safetensors}), an index
     * file (a name ending in .json), or a single .safetensors file. Every shard is opened and
     * validated; a tensor the index lists but its shard lacks, one in two shards, or one in a shard
     * but not in the index is a SafetensorsException naming the tensor and the files.
     */
    public static ShardedCheckpoint open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            Path index = path.resolve(INDEX_FILE);
            if (Files.exists(index)) {
                return openIndex(index);
            }
            Path single = path.resolve(SINGLE_FILE);
            if (Files.exists(single)) {
                return openSingle(single);
            }
            throw new NoSuchFileException(path.toString(), null, "directory holds neither " + INDEX_FILE + " nor " + SINGLE_FILE);
        }
        if (path.getFileName().toString().endsWith(".json")) {
            return openIndex(path);
        }
        return openSingle(path);
    }

    private static ShardedCheckpoint openSingle(Path file) throws IOException {
        SafetensorsFile single = SafetensorsFile.open(file);
        Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
        for (TensorEntry entry : single.entries()) {
            byName.put(entry.name(), single);
        }
        return new ShardedCheckpoint(file, List.of(single), byName);
    }

    private static ShardedCheckpoint openIndex(Path index) throws IOException {
        Map<String, String> weightMap = readWeightMap(index);
        Path directory = index.toAbsolutePath().getParent();
        for (Map.Entry<String, String> item : weightMap.entrySet()) {
            Path shard = directory.resolve(item.getValue()).normalize();
            if (!shard.startsWith(directory.normalize())) {
                throw new SafetensorsException(index, item.getKey(), "shard \"" + item.getValue() + "\" lies outside " + directory);
            }
        }
        // Shard names sort in shard order (model-00001-of-...); open each once.
        Map<String, SafetensorsFile> shards = new TreeMap<>();
        try {
            for (String shardName : new TreeSet<>(weightMap.values())) {
                Path shard = directory.resolve(shardName);
                if (!Files.exists(shard)) {
                    String listed = weightMap.entrySet().stream().filter(e -> e.getValue().equals(shardName))
                            .findFirst().orElseThrow().getKey();
                    throw new SafetensorsException(index, listed, "is listed in shard " + shard + ", which does not exist");
                }
                shards.put(shardName, SafetensorsFile.open(shard));
            }
            Map<String, SafetensorsFile> owner = new LinkedHashMap<>();
            for (SafetensorsFile shard : shards.values()) {
                for (TensorEntry entry : shard.entries()) {
                    SafetensorsFile first = owner.putIfAbsent(entry.name(), shard);
                    if (first != null) {
                        throw new SafetensorsException(index, entry.name(), "is in two shards: " + first.path() + " and " + shard.path());
                    }
                }
            }
            Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
            for (Map.Entry<String, String> item : weightMap.entrySet()) {
                SafetensorsFile listed = shards.get(item.getValue());
                SafetensorsFile actual = owner.get(item.getKey());
                if (actual != listed) {
                    throw new SafetensorsException(index, item.getKey(), "is listed in shard " + listed.path() + " but "
                            + (actual == null ? "no shard holds it" : "it is in " + actual.path()));
                }
                byName.put(item.getKey(), listed);
            }
            for (Map.Entry<String, SafetensorsFile> item : owner.entrySet()) {
                if (!weightMap.containsKey(item.getKey())) {
                    throw new SafetensorsException(index, item.getKey(), "is in shard " + item.getValue().path()
                            + " but the index does not list it");
                }
            }
            return new ShardedCheckpoint(index, List.copyOf(shards.values()), byName);
        } catch (IOException | RuntimeException | Error failure) {
            shards.values().forEach(SafetensorsFile::close);
            throw failure;
        }
    }

    private static Map<String, String> readWeightMap(Path index) throws IOException {
        long size = Files.size(index);
        if (size > MAX_INDEX_BYTES) {
            throw new SafetensorsException(index, "index is " + size + " bytes, over the " + MAX_INDEX_BYTES + "-byte limit");
        }
        Object json;
        try {
            json = Json.parse(Files.readString(index, StandardCharsets.UTF_8));
        } catch (CharacterCodingException notUtf8) {
            throw new SafetensorsException(index, "index is not valid UTF-8", notUtf8);
        } catch (Json.JsonException malformed) {
            throw new SafetensorsException(index, "malformed index JSON: " + malformed.getMessage());
        }
        if (!(json instanceof Map<?, ?> root) || !(root.get("weight_map") instanceof Map<?, ?> map)) {
            throw new SafetensorsException(index, "index has no \"weight_map\" object");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<?, ?> item : map.entrySet()) {
            if (!(item.getValue() instanceof String shard)) {
                throw new SafetensorsException(index, (String) item.getKey(), "weight_map value is a JSON "
                        + Json.typeName(item.getValue()) + ", not a shard file name");
            }
            weightMap.put((String) item.getKey(), shard);
        }
        return weightMap;
    }

    /** Every tensor name: the index's order, or the file's for a single file. */
    public Set<String> names() {
        return Collections.unmodifiableSet(byName.keySet());
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    public TensorEntry entry(String name) throws SafetensorsException {
        return fileOf(name).entry(name);
    }

    /** The tensor's bytes, as {@link SafetensorsFile#data} gives them. */
    public MemorySegment data(String name) throws SafetensorsException {
        return fileOf(name).data(name);
    }

    /** The shard holding the tensor. */
    public SafetensorsFile fileOf(String name) throws SafetensorsException {
        SafetensorsFile file = byName.get(name);
        if (file == null) {
            throw new SafetensorsException(source, name, "no such tensor in the checkpoint (" + byName.size() + " tensors)");
        }
        return file;
    }

    /** The files opened, in shard order (sorted by file name). */
    public List<SafetensorsFile> files() {
        return files;
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }

    /**
     * Writes a checkpoint into {@code directory}: one {@code model.safetensors} when the tensors
     * take at most {@code maxShardBytes}, else shards of at most that many tensor bytes (a larger
     * tensor gets a shard to itself), filled in the given order as Hugging Face does, each with
     * {@code metadata}, and then {@code model.safetensors.index.json} whose
     * {@code metadata.total_size} is the sum of tensor bytes. Every file is written atomically and
     * the index last. A single-file write removes an index left from an earlier sharded one, which
     * would otherwise shadow it.
     */
    public static void write(Path directory, Map<String, String> metadata, List<TensorData> tensors, long maxShardBytes)
            throws IOException {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        SafetensorsWriter.checkNames(tensors);
        List<List<TensorData>> shards = new ArrayList<>();
        List<TensorData> current = new ArrayList<>();
        long currentBytes = 0;
        long totalBytes = 0;
        for (TensorData tensor : tensors) {
            long bytes = tensor.data().byteSize();
            if (!current.isEmpty() && currentBytes + bytes > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(tensor);
            currentBytes += bytes;
            totalBytes += bytes;
        }
        shards.add(current);
        Files.createDirectories(directory);
        if (shards.size() == 1) {
            SafetensorsWriter.write(directory.resolve(SINGLE_FILE), metadata, tensors);
            Files.deleteIfExists(directory.resolve(INDEX_FILE));
            return;
        }
        Map<String, Object> weightMap = new TreeMap<>();
        for (int i = 0; i < shards.size(); i++) {
            String shardName = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            SafetensorsWriter.write(directory.resolve(shardName), metadata, shards.get(i));
            for (TensorData tensor : shards.get(i)) {
                weightMap.put(tensor.name(), shardName);
            }
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("metadata", Map.of("total_size", totalBytes));
        index.put("weight_map", weightMap);
        byte[] text = Json.writePretty(index).getBytes(StandardCharsets.UTF_8);
        SafetensorsWriter.writeAtomically(directory.resolve(INDEX_FILE),
                channel -> SafetensorsWriter.writeFully(channel, ByteBuffer.wrap(text)));
    }

    @Override
    public String toString() {
        return "ShardedCheckpoint[" + source + ", " + files.size() + " files, " + byName.size() + " tensors]";
    }
}
