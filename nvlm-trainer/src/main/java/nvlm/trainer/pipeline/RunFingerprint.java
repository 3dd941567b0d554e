package nvlm.trainer.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
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
 * {@link DataSpec}, the LLaVA file's size and SHA-256 and its images' count, bytes and contents,
 * or each batch file's size and SHA-256), the thread count (the CPU kernels' reductions split by
 * it) and the device. {@code --resume} recomputes it and refuses a run whose data or settings
 * changed, unless {@code --resume-anyway}, which is recorded in the file.
 *
 * <p>The images' contents are one SHA-256 in {@value #FILE}, over the list {@value #IMAGES_FILE}
 * beside it: the SHA-256 of each image the records use, in {@code sha256sum} format (so
 * {@code sha256sum -c} checks it from the image folder), from which a refused resume names the
 * images that changed.
 */
public final class RunFingerprint {
    public static final String FILE = "run.json";
    public static final String IMAGES_FILE = "images.sha256";
    private static final String RESUMED_ANYWAY = "resumed_anyway";
    private static final String LLAVA_IMAGES = "llava_images";
    private static final int NAMED = 5;

    private final Map<String, Object> values;
    /** Image name (relative to the image folder) to SHA-256, in first-use order; null when not known. */
    private final Map<String, String> images;

    private RunFingerprint(Map<String, Object> values, Map<String, String> images) {
        this.values = values;
        this.images = images;
    }

    /** The fingerprint of a run over {@code data} (null for batch files in {@code batches}) on {@code device}. */
    public static RunFingerprint of(DataSpec data, Path batches, Device device) throws IOException {
        return of(data, data != null && !data.isWorld() ? data.openLlava() : null, batches, device);
    }

    /** {@link #of(DataSpec, Path, Device)} with the LLaVA file of {@code data} already opened ({@code llava}; null for the world). */
    public static RunFingerprint of(DataSpec data, LlavaDataset llava, Path batches, Device device) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, String> imageDigests = null;
        m.put("threads", (long) Parallel.threads());
        m.put("device", device.toString());
        if (data != null) {
            m.put("data", data.toJson());
            if (!data.isWorld()) {
                m.put("llava_file", fileDigest(data.llavaFile()));
                Path folder = data.imageFolder() != null ? data.imageFolder() : data.llavaFile().toAbsolutePath().getParent();
                imageDigests = new LinkedHashMap<>();
                long bytes = 0;
                for (int i = 0; i < llava.size(); i++) {
                    for (Path image : llava.record(i).images()) {
                        String name = image.startsWith(folder) ? folder.relativize(image).toString() : image.toString();
                        if (!imageDigests.containsKey(name)) {
                            Map<String, Object> digest = fileDigest(image);
                            imageDigests.put(name, (String) digest.get("sha256"));
                            bytes += (Long) digest.get("bytes");
                        }
                    }
                }
                Map<String, Object> summary = new LinkedHashMap<>();
                summary.put("count", (long) imageDigests.size());
                summary.put("bytes", bytes);
                summary.put("sha256", sha256(imageList(imageDigests).getBytes(StandardCharsets.UTF_8)));
                m.put(LLAVA_IMAGES, summary);
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
        return new RunFingerprint(m, imageDigests);
    }

    /** The images' digests as {@code sha256sum} writes them: "digest, two spaces, name" per line. */
    private static String imageList(Map<String, String> digests) {
        StringBuilder out = new StringBuilder();
        digests.forEach((name, digest) -> out.append(digest).append("  ").append(name).append('\n'));
        return out.toString();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }

    private static Map<String, Object> fileDigest(Path file) throws IOException {
        MessageDigest sha = sha256();
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
                String changedImages = key.equals(LLAVA_IMAGES) && images != null && saved.images != null
                        ? imageChanges(saved.images, images) : "";
                out.add(key + ": " + (then == null ? "absent" : Json.write(then)) + " then, " + (now == null ? "absent" : Json.write(now))
                        + " now" + changedImages);
            }
        }
        return out;
    }

    /** " (changed: a.png, ...; new: ...; gone: ...)", the first few of each, or "" when the lists agree. */
    private static String imageChanges(Map<String, String> then, Map<String, String> now) {
        List<String> changed = new ArrayList<>();
        List<String> added = new ArrayList<>();
        List<String> gone = new ArrayList<>();
        now.forEach((name, digest) -> {
            if (!then.containsKey(name)) {
                added.add(name);
            } else if (!then.get(name).equals(digest)) {
                changed.add(name);
            }
        });
        then.keySet().stream().filter(name -> !now.containsKey(name)).forEach(gone::add);
        List<String> parts = new ArrayList<>();
        for (var kind : List.of(Map.entry("changed", changed), Map.entry("new", added), Map.entry("gone", gone))) {
            List<String> names = kind.getValue();
            if (!names.isEmpty()) {
                parts.add(kind.getKey() + ": " + String.join(", ", names.subList(0, Math.min(NAMED, names.size())))
                        + (names.size() > NAMED ? " and " + (names.size() - NAMED) + " more" : ""));
            }
        }
        return parts.isEmpty() ? "" : " (" + String.join("; ", parts) + ")";
    }

    /** This fingerprint, recording that the run was resumed at {@code step} despite {@code differences}. */
    @SuppressWarnings("unchecked")
    public RunFingerprint resumedAnyway(RunFingerprint saved, long step, List<String> differences) {
        Map<String, Object> m = new LinkedHashMap<>(values);
        List<Object> history = new ArrayList<>(saved.values.get(RESUMED_ANYWAY) instanceof List<?> l ? (List<Object>) l : List.of());
        history.add(Map.of("step", step, "differences", List.copyOf(differences)));
        m.put(RESUMED_ANYWAY, history);
        return new RunFingerprint(m, images);
    }

    /** Writes {@value #FILE} (and {@value #IMAGES_FILE} for LLaVA data) into {@code runDir}, each forced to disk. */
    public void write(Path runDir) throws IOException {
        if (images != null) {
            DurableFiles.writeString(runDir.resolve(IMAGES_FILE), imageList(images));
        }
        DurableFiles.writeString(runDir.resolve(FILE), Json.writePretty(values) + "\n");
    }

    /** The fingerprint saved in a run folder, or null for a run made before fingerprints were kept. */
    public static RunFingerprint read(Path runDir) throws IOException {
        Path file = runDir.resolve(FILE);
        if (!Files.exists(file)) {
            return null;
        }
        Path list = runDir.resolve(IMAGES_FILE);
        Map<String, String> images = null;
        if (Files.exists(list)) {
            // Only to name what changed (run.json's digest is the check): a line it cannot read (a
            // name holding a line break) drops the names, not the resume.
            images = new LinkedHashMap<>();
            for (String line : Files.readAllLines(list, StandardCharsets.UTF_8)) {
                if (line.indexOf("  ") != 64) {
                    images = null;
                    break;
                }
                images.put(line.substring(66), line.substring(0, 64));
            }
        }
        return new RunFingerprint(JsonFile.readObject(file), images);
    }
}
