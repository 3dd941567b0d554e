package nvlm.trainer.backbone;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.NvlmConfig;
import nvlm.tensor.Device;
import nvlm.tensor.Tensor;
import nvlm.tensor.io.Json;
import nvlm.tensor.io.JsonFile;

/**
 * The backbones stages 1 and 2 start from: a model folder (docs/model.md §10) whose vision encoder
 * ({@code vision_model.*}) and LLM ({@code language_model.*} without cross-attention blocks) are
 * pretrained, and a manifest ({@value #MANIFEST}) saying how. They come from
 * {@code ./nvlm pretrain-backbones} ({@link BackbonePretraining}), from the copy shipped in the
 * jar ({@link #extractShipped}, made by {@code ./nvlm pretrain-backbones --seed 1}), or from any
 * model folder with the same shapes (a real checkpoint: vision and LLM may come from different
 * folders).
 */
public final class Backbones {
    public static final String MANIFEST = "backbones.json";
    public static final String WEIGHTS = "model.safetensors";
    /** Where the shipped backbones of the tiny preset live on the class path. */
    public static final String SHIPPED_RESOURCE = "/nvlm/trainer/backbones/tiny/";
    static final List<String> FILES = List.of(Checkpoint.CONFIG, WEIGHTS, MANIFEST);

    private Backbones() {
    }

    /** Whether this build carries backbones for the tiny preset. */
    public static boolean shipped() {
        return Backbones.class.getResource(SHIPPED_RESOURCE + MANIFEST) != null;
    }

    /** The manifest of the shipped backbones. */
    public static Map<String, Object> shippedManifest() throws IOException {
        try (InputStream in = resource(MANIFEST)) {
            return Json.parseObject(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    /**
     * Copies the shipped backbones into {@code dir} (created if needed; files written atomically,
     * through a temp file of this process's own, so that several processes may extract into the
     * same folder at once) and returns it.
     */
    public static Path extractShipped(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String name : FILES) {
            Path tmp = dir.resolve(name + ".tmp-" + ProcessHandle.current().pid());
            try {
                try (InputStream in = resource(name)) {
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                }
                Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
        return dir;
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = Backbones.class.getResourceAsStream(SHIPPED_RESOURCE + name);
        if (in == null) {
            throw new IOException("this build carries no shipped backbones (" + SHIPPED_RESOURCE + name + " is not on the class"
                    + " path); make them with ./nvlm pretrain-backbones --seed 1");
        }
        return in;
    }

    /** The world seed the backbones in {@code dir} were trained on (their manifest's {@code world_seed}), else {@code otherwise}. */
    public static long worldSeed(Path dir, long otherwise) throws IOException {
        return manifest(dir).get("world_seed") instanceof Long w ? w : otherwise;
    }

    /** The manifest of a backbones folder (an empty map for a plain model folder, e.g. a real checkpoint). */
    public static Map<String, Object> manifest(Path dir) throws IOException {
        Path file = dir.resolve(MANIFEST);
        if (!Files.exists(file)) {
            return Map.of();
        }
        return JsonFile.readObject(file);
    }

    /**
     * Copies the vision encoder of the model folder {@code visionFrom} and the LLM of
     * {@code llmFrom} into {@code model} (either may be null: that part keeps its weights). The
     * projector and cross-attention blocks are left as they are: stage 1 trains them. Each
     * part's config must match the model's.
     */
    public static void load(Nvlm model, Path visionFrom, Path llmFrom) throws IOException {
        Map<String, Tensor> state = new LinkedHashMap<>(model.stateDict());
        if (visionFrom != null) {
            copy(state, visionFrom, true, model.config());
        }
        if (llmFrom != null) {
            copy(state, llmFrom, false, model.config());
        }
        model.loadStateDict(state, true);
    }

    /** Whether parameter {@code name} belongs to the vision backbone (true) or the LLM backbone (false), or neither (null). */
    static Boolean part(String name) {
        if (name.startsWith("vision_model.")) {
            return true;
        }
        if (name.startsWith("language_model.") && !name.contains(".xattn_layers.")) {
            return false;
        }
        return null;
    }

    private static void copy(Map<String, Tensor> state, Path folder, boolean vision, NvlmConfig target) throws IOException {
        NvlmConfig source = NvlmConfig.read(folder.resolve(Checkpoint.CONFIG));
        String what = vision ? "vision encoder" : "LLM";
        Object need = vision ? target.vision() : target.llm();
        Object have = vision ? source.vision() : source.llm();
        if (!need.equals(have)) {
            throw new IllegalArgumentException(folder + ": its " + what + " config " + have + " differs from the model's " + need);
        }
        Nvlm from = Checkpoint.load(folder, Device.CPU);
        Map<String, Tensor> weights = from.stateDict();
        List<String> missing = new ArrayList<>();
        for (String name : state.keySet()) {
            if (Boolean.valueOf(vision).equals(part(name))) {
                Tensor t = weights.get(name);
                if (t == null) {
                    missing.add(name);
                } else {
                    state.put(name, t);
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(folder + ": no " + what + " weights " + missing);
        }
    }

    /** SHA-256 of a file, in hex. */
    public static String sha256(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
