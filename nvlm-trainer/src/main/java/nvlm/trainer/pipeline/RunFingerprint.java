package nvlm.trainer.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.stream.Stream;
import nvlm.kernels.Parallel;
import nvlm.tensor.Device;
import nvlm.tensor.io.DurableFiles;
import nvlm.tensor.io.Json;
import nvlm.tensor.io.JsonFile;
import nvlm.trainer.data.LlavaDataset;

/**
 * What a run's bits depend on besides its checkpoints, kept in {@value #FILE}: the data (the
 * {@link DataSpec}, the LLaVA file's size and SHA-256 and its images' count and bytes, or each
 * batch file's size and SHA-256), the thread count (the CPU kernels' reductions split by it) and
 * the device. {@code --resume} recomputes it and refuses a run whose data or settings changed,
 * unless {@code --resume-anyway}, which is recorded in the file.
 */
public final class RunFingerprint {
    public static final String FILE = "run.json";
    private static final String RESUMED_ANYWAY = "resumed_anyway";

    private final Map<String, Object> values;

    private RunFingerprint(Map<String, Object> values) {
        this.values = values;
    }

    /** The fingerprint of a run over {@code data} (null for batch files in {@code batches}) on {@code device}. */
    public static RunFingerprint of(DataSpec data, Path batches, Device device) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("threads", (long) Parallel.threads());
        m.put("device", device.toString());
        if (data != null) {
            m.put("data", data.toJson());
            if (!data.isWorld()) {
                m.put("llava_file", fileDigest(data.llavaFile()));
                LlavaDataset dataset = LlavaDataset.open(data.llavaFile(), data.imageFolder() != null ? data.imageFolder()
                        : data.llavaFile().toAbsolutePath().getParent(), new nvlm.model.tiling.ImageLoader(), data.allowOutsideImages());
                long images = 0;
                long bytes = 0;
                for (int i = 0; i < dataset.size(); i++) {
                    for (Path image : dataset.record(i).images()) {
                        images++;
                        bytes += Files.size(image);
                    }
                }
                m.put("llava_images", Map.of("count", images, "bytes", bytes));
            }
        } else {
            Map<String, Object> files = new LinkedHashMap<>();
            try (Stream<Path> list = Files.list(batches)) {
                for (Path p : list.filter(f -> f.getFileName().toString().endsWith(".safetensors")).sorted().toList()) {
                    files.put(p.getFileName().toString(), fileDigest(p));
                }
            }
            m.put("batch_files", files);
        }
        return new RunFingerprint(m);
    }

    private static Map<String, Object> fileDigest(Path file) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
                sha.update(buffer, 0, n);
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bytes", Files.size(file));
        m.put("sha256", HexFormat.of().formatHex(sha.digest()));
        return m;
    }

    /** What differs from {@code saved}, one line per field ("threads: 2 then, 4 now"); empty when nothing does. */
    public List<String> differences(RunFingerprint saved) {
        List<String> out = new ArrayList<>();
        TreeSet<String> keys = new TreeSet<>(values.keySet());
        keys.addAll(saved.values.keySet());
        keys.remove(RESUMED_ANYWAY);
        for (String key : keys) {
            Object then = saved.values.get(key);
            Object now = values.get(key);
            if (!Objects.equals(then, now)) {
                out.add(key + ": " + (then == null ? "absent" : Json.write(then)) + " then, " + (now == null ? "absent" : Json.write(now))
                        + " now");
            }
        }
        return out;
    }

    /** This fingerprint, recording that the run was resumed at {@code step} despite {@code differences}. */
    @SuppressWarnings("unchecked")
    public RunFingerprint resumedAnyway(RunFingerprint saved, long step, List<String> differences) {
        Map<String, Object> m = new LinkedHashMap<>(values);
        List<Object> history = new ArrayList<>(saved.values.get(RESUMED_ANYWAY) instanceof List<?> l ? (List<Object>) l : List.of());
        history.add(Map.of("step", step, "differences", List.copyOf(differences)));
        m.put(RESUMED_ANYWAY, history);
        return new RunFingerprint(m);
    }

    public void write(Path runDir) throws IOException {
        DurableFiles.writeString(runDir.resolve(FILE), Json.writePretty(values) + "\n");
    }

    /** The fingerprint saved in a run folder, or null for a run made before fingerprints were kept. */
    public static RunFingerprint read(Path runDir) throws IOException {
        Path file = runDir.resolve(FILE);
        return Files.exists(file) ? new RunFingerprint(JsonFile.readObject(file)) : null;
    }
}
