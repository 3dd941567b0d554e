package nvlm.trainer.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.tensor.Device;
import nvlm.tensor.Tensor;
import nvlm.tensor.io.DurableFiles;
import nvlm.tensor.io.Json;
import nvlm.tensor.io.JsonFile;
import nvlm.tensor.io.Safetensors;
import nvlm.tensor.nn.Parameter;
import nvlm.tensor.optim.AdamW;
import nvlm.trainer.recipe.StageConfig;

/**
 * A resumable training checkpoint: one folder per saved step under {@code <run>/checkpoints/}.
 *
 * <pre>
 * checkpoints/step-00000040/
 *   model/config.json, model/model.safetensors   the model folder (Checkpoint.save, F32: exact bits)
 *   optimizer.safetensors                        AdamW state: &lt;param&gt;.exp_avg, &lt;param&gt;.exp_avg_sq, step
 *   trainer.json                                 {@link State}: step, stage config, metrics length, counters
 *   parallel.json                                the manifest: how many ranks wrote it and how ({@link Parallelism})
 *   COMMIT                                       written last: every file's size and CRC-32C
 * </pre>
 *
 * A data-parallel run's replicas are identical, so rank 0 writes the whole model and optimizer
 * state as one process would: the checkpoint is read the same way by any number of ranks and by
 * the single-process loader, and resuming with another {@code --nproc} continues the same run (up
 * to the order of the gradient sums). {@code parallel.json} records the grid that wrote it.
 *
 * A checkpoint is written into {@code .tmp-step-N}, every file and folder forced to disk, then
 * {@code COMMIT}, then one rename into place and the parent folder forced: a kill or a power cut
 * at any moment leaves the previous checkpoints as they were. Saving a step that already has a
 * checkpoint (an interrupt right after a periodic save) writes {@code step-N.r1} (then
 * {@code .r2}...) beside it, again one rename; older ones are removed only after the new one is in
 * place. Only folders with a {@code COMMIT} whose sizes match are checkpoints; {@link #usable}
 * skips a damaged newest one for the one before, saying what it skipped. The data position is
 * the step number alone, because {@link BatchSource} batches are a pure function of (step,
 * micro-step), and the trainer draws no random numbers.
 */
public final class TrainingCheckpoint {
    public static final String DIR = "checkpoints";
    public static final String MODEL = "model";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String STATE = "trainer.json";
    public static final String COMMIT = "COMMIT";
    public static final String FORMAT = "nvlm-trainer-checkpoint/1";
    private static final String COMMIT_FORMAT = "nvlm-checkpoint-commit/1";
    public static final String MANIFEST = "parallel.json";
    public static final String MANIFEST_FORMAT = "nvlm-parallel-manifest/1";

    private static final Pattern STEP_DIR = Pattern.compile("step-(\\d+)(?:\\.r(\\d+))?");

    private TrainingCheckpoint() {
    }

    /**
     * The trainer's own state at a step boundary.
     *
     * @param step          optimizer steps completed; the next batch is {@code step + 1}
     * @param config        the stage's hyper-parameters
     * @param metricsLength bytes of metrics.jsonl written up to this step
     * @param smoothedLoss  the progress bar's smoothed loss (display only)
     * @param tokens        tokens seen so far
     * @param samples       rows seen so far
     * @param trainSeconds  wall time spent in steps so far
     */
    public record State(long step, StageConfig config, long metricsLength, double smoothedLoss, long tokens, long samples,
                        double trainSeconds) {

        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("format", FORMAT);
            m.put("step", step);
            m.put("next_batch_step", step + 1);
            m.put("stage_config", config.toJson());
            m.put("metrics_length", metricsLength);
            m.put("smoothed_loss", smoothedLoss);
            m.put("tokens", tokens);
            m.put("samples", samples);
            m.put("train_seconds", trainSeconds);
            return m;
        }

        @SuppressWarnings("unchecked")
        public static State fromJson(String text, String source) {
            Map<String, Object> m = Json.parseObject(text);
            if (!FORMAT.equals(m.get("format"))) {
                throw new IllegalArgumentException(source + ": format is " + m.get("format") + ", expected " + FORMAT);
            }
            if (!(m.get("stage_config") instanceof Map<?, ?> config)) {
                throw new IllegalArgumentException(source + ": field 'stage_config' must be an object");
            }
            Object smoothed = m.get("smoothed_loss");
            return new State(longField(m, "step", source), StageConfig.fromJson((Map<String, Object>) config, source),
                    longField(m, "metrics_length", source), smoothed instanceof Number n ? n.doubleValue() : Double.NaN,
                    longField(m, "tokens", source), longField(m, "samples", source),
                    m.get("train_seconds") instanceof Number n ? n.doubleValue() : 0.0);
        }

        private static long longField(Map<String, Object> m, String key, String source) {
            if (!(m.get(key) instanceof Long n)) {
                throw new IllegalArgumentException(source + ": field '" + key + "' must be an integer");
            }
            return n;
        }
    }

    /**
     * The parallel grid a checkpoint was written by.
     *
     * @param dataParallel   data-parallel ranks
     * @param tensorParallel tensor-parallel ranks (1: every rank holds whole tensors)
     */
    public record Parallelism(int dataParallel, int tensorParallel, boolean zero) {
        public Parallelism(int dataParallel, int tensorParallel) {
            this(dataParallel, tensorParallel, false);
        }

        public Parallelism {
            if (dataParallel < 1 || tensorParallel < 1) {
                throw new IllegalArgumentException("parallelism: data_parallel and tensor_parallel must be >= 1, got "
                        + dataParallel + ", " + tensorParallel);
            }
        }

        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("format", MANIFEST_FORMAT);
            m.put("data_parallel", (long) dataParallel);
            m.put("tensor_parallel", (long) tensorParallel);
            m.put("ranks", (long) dataParallel * tensorParallel);
            m.put("zero", zero ? 1L : 0L);
            // Written by rank 0 alone: the replicas are identical (under ZeRO-1 the optimizer state is
            // gathered first), nothing is sharded on disk.
            m.put("layout", "whole");
            m.put("files", List.of(MODEL + "/" + Checkpoint.CONFIG, MODEL + "/model.safetensors", OPTIMIZER, STATE));
            return m;
        }

        public static Parallelism read(Path folder) throws IOException {
            Path file = folder.resolve(MANIFEST);
            if (!Files.exists(file)) {
                return new Parallelism(1, 1); // written before manifests: one process
            }
            Map<String, Object> m = Json.parseObject(Files.readString(file));
            if (!MANIFEST_FORMAT.equals(m.get("format"))) {
                throw new IllegalArgumentException(file + ": format is " + m.get("format") + ", expected " + MANIFEST_FORMAT);
            }
            if (!(m.get("data_parallel") instanceof Long dp) || !(m.get("tensor_parallel") instanceof Long tp)) {
                throw new IllegalArgumentException(file + ": data_parallel and tensor_parallel must be integers");
            }
            return new Parallelism(Math.toIntExact(dp), Math.toIntExact(tp), Long.valueOf(1L).equals(m.get("zero")));
        }
    }

    /** {@code <run>/checkpoints/step-0000000N}. */
    public static Path folder(Path runDir, long step) {
        return runDir.resolve(DIR).resolve(String.format("step-%08d", step));
    }

    /**
     * Writes a checkpoint of {@code model} and {@code optimizer} ({@code names}: the trainable
     * parameters by full name) at {@code state.step()}, then keeps only the newest {@code keep}.
     * Returns the checkpoint folder.
     */
    public static Path write(Path runDir, Nvlm model, AdamW optimizer, Map<String, Parameter> names, State state, int keep)
            throws IOException {
        return write(runDir, model, optimizer, names, state, keep, new Parallelism(1, 1));
    }

    /** {@link #write(Path, Nvlm, AdamW, Map, State, int)} by the rank 0 of a {@code grid}, recorded in its manifest. */
    public static Path write(Path runDir, Nvlm model, AdamW optimizer, Map<String, Parameter> names, State state, int keep,
                             Parallelism grid) throws IOException {
        return write(runDir, model, optimizer.stateDict(names), state, keep, grid);
    }

    /** A checkpoint with the optimizer state given as {@code AdamW.stateDict} makes it (whole). */
    public static Path write(Path runDir, Nvlm model, Map<String, Tensor> optimizerState, State state, int keep,
                             Parallelism grid) throws IOException {
        Path checkpoints = Files.createDirectories(runDir.resolve(DIR));
        Path target = folder(runDir, state.step());
        long revision = -1;
        for (Path p : candidates(runDir)) {
            if (stepOf(p) == state.step()) {
                revision = Math.max(revision, revisionOf(p));
            }
        }
        if (revision >= 0) {
            target = checkpoints.resolve(target.getFileName() + ".r" + (revision + 1));
        }
        Path tmp = checkpoints.resolve(".tmp-" + target.getFileName());
        deleteRecursively(tmp);
        Files.createDirectories(tmp);
        Checkpoint.save(model, tmp.resolve(MODEL));
        Safetensors.save(tmp.resolve(OPTIMIZER), optimizerState);
        Files.writeString(tmp.resolve(MANIFEST), Json.writePretty(grid.toJson()));
        Files.writeString(tmp.resolve(STATE), Json.writePretty(state.toJson()));
        DurableFiles.forceTree(tmp);
        // The marker goes last: a folder without it (or whose files do not match it) is not a checkpoint.
        Files.writeString(tmp.resolve(COMMIT), Json.writePretty(commitRecord(tmp, state.step())));
        DurableFiles.force(tmp.resolve(COMMIT));
        DurableFiles.force(tmp);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        DurableFiles.force(checkpoints);
        prune(runDir, keep);
        return target;
    }

    /** {@code COMMIT}'s contents: the step and every file's size and CRC-32C, by path relative to the folder. */
    private static Map<String, Object> commitRecord(Path folder, long step) throws IOException {
        Map<String, Object> files = new java.util.TreeMap<>();
        for (Path file : files(folder)) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("bytes", Files.size(file));
            entry.put("crc32c", crc32c(file));
            files.put(folder.relativize(file).toString().replace('\\', '/'), entry);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", COMMIT_FORMAT);
        m.put("step", step);
        m.put("files", files);
        return m;
    }

    private static List<Path> files(Path folder) throws IOException {
        try (Stream<Path> walk = Files.walk(folder)) {
            return walk.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().equals(COMMIT)).sorted().toList();
        }
    }

    private static long crc32c(Path file) throws IOException {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        byte[] buffer = new byte[1 << 16];
        try (var in = Files.newInputStream(file)) {
            for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
                crc.update(buffer, 0, n);
            }
        }
        return crc.getValue();
    }

    /**
     * Checks a checkpoint folder against its {@code COMMIT}: present, for this step, every file
     * listed there with its size and CRC-32C, and a readable {@code trainer.json}. Throws an
     * {@link IOException} naming the first thing that does not match.
     */
    public static void verify(Path folder) throws IOException {
        Path commit = folder.resolve(COMMIT);
        if (!Files.isRegularFile(commit)) {
            throw new IOException(folder + ": no " + COMMIT + " marker (the save did not finish)");
        }
        Map<String, Object> m;
        try {
            m = Json.parseObject(Files.readString(commit));
        } catch (IOException | RuntimeException e) {
            throw new IOException(commit + ": unreadable (" + e.getMessage() + ")", e);
        }
        if (!COMMIT_FORMAT.equals(m.get("format")) || !(m.get("files") instanceof Map<?, ?> files)
                || !(m.get("step") instanceof Long step)) {
            throw new IOException(commit + ": not a " + COMMIT_FORMAT + " record");
        }
        if (step != stepOf(folder)) {
            throw new IOException(commit + ": records step " + step + " but the folder is step " + stepOf(folder));
        }
        for (var e : files.entrySet()) {
            Path file = folder.resolve(String.valueOf(e.getKey()));
            if (!(e.getValue() instanceof Map<?, ?> entry) || !(entry.get("bytes") instanceof Long bytes)
                    || !(entry.get("crc32c") instanceof Long crc)) {
                throw new IOException(commit + ": bad entry for " + e.getKey());
            }
            if (!Files.isRegularFile(file)) {
                throw new IOException(file + " is missing");
            }
            long size = Files.size(file);
            if (size != bytes) {
                throw new IOException(file + " has " + size + " bytes, " + COMMIT + " says " + bytes + " (truncated or rewritten)");
            }
            if (crc32c(file) != crc) {
                throw new IOException(file + ": contents differ from when it was saved (CRC-32C mismatch)");
            }
        }
        try {
            readState(folder);
        } catch (RuntimeException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * The newest checkpoint of a run that passes {@link #verify}; each newer one that does not is
     * skipped and told to {@code skipped} with the reason. Empty when none is usable.
     */
    public static Optional<Path> usable(Path runDir, Consumer<String> skipped) throws IOException {
        List<Path> all = candidates(runDir);
        for (int i = all.size() - 1; i >= 0; i--) {
            try {
                verify(all.get(i));
                return Optional.of(all.get(i));
            } catch (IOException e) {
                skipped.accept("skipping damaged checkpoint " + all.get(i) + ": " + e.getMessage()
                        + (i > 0 ? "; trying " + all.get(i - 1).getFileName() : "; no older checkpoint left"));
            }
        }
        return Optional.empty();
    }

    /** Committed checkpoint folders of a run (a {@code COMMIT} marker present), oldest first. */
    public static List<Path> list(Path runDir) throws IOException {
        return candidates(runDir).stream().filter(p -> Files.isRegularFile(p.resolve(COMMIT))).toList();
    }

    /** Every {@code step-N[.rK]} folder of a run, committed or not, oldest first. */
    private static List<Path> candidates(Path runDir) throws IOException {
        Path checkpoints = runDir.resolve(DIR);
        if (!Files.isDirectory(checkpoints)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(checkpoints)) {
            return entries.filter(p -> STEP_DIR.matcher(p.getFileName().toString()).matches())
                    .sorted(Comparator.comparingLong(TrainingCheckpoint::stepOf).thenComparingLong(TrainingCheckpoint::revisionOf))
                    .toList();
        }
    }

    /** The newest complete checkpoint of a run. */
    public static Optional<Path> latest(Path runDir) throws IOException {
        List<Path> all = list(runDir);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.getLast());
    }

    /** The step a checkpoint folder holds, from its name. */
    public static long stepOf(Path folder) {
        Matcher m = STEP_DIR.matcher(folder.getFileName().toString());
        if (!m.matches()) {
            throw new IllegalArgumentException(folder + " is not a checkpoint folder (step-NNNNNNNN or step-NNNNNNNN.rK)");
        }
        return Long.parseLong(m.group(1));
    }

    /** 0 for {@code step-N}, K for {@code step-N.rK} (the same step saved again). */
    static long revisionOf(Path folder) {
        Matcher m = STEP_DIR.matcher(folder.getFileName().toString());
        return m.matches() && m.group(2) != null ? Long.parseLong(m.group(2)) : 0;
    }

    public static State readState(Path folder) throws IOException {
        Path file = folder.resolve(STATE);
        try {
            return State.fromJson(JsonFile.readText(file), file.toString());
        } catch (IllegalArgumentException e) {
            throw e.getMessage() != null && e.getMessage().startsWith(file.toString()) ? e
                    : new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** The checkpoint's model, on {@code device}. */
    public static Nvlm readModel(Path folder, Device device) throws IOException {
        return Checkpoint.load(folder.resolve(MODEL), device);
    }

    /** Loads the optimizer moments and step count saved with a checkpoint. */
    public static void readOptimizer(Path folder, AdamW optimizer, Map<String, Parameter> names) throws IOException {
        readOptimizer(folder, optimizer, names, (key, whole) -> whole);
    }

    /**
     * {@link #readOptimizer(Path, AdamW, Map)}, each saved tensor first turned by {@code local}
     * (its key and the whole tensor) into the part this rank keeps: a tensor-parallel block.
     */
    public static void readOptimizer(Path folder, AdamW optimizer, Map<String, Parameter> names,
                                     BiFunction<String, Tensor, Tensor> local) throws IOException {
        Path file = folder.resolve(OPTIMIZER);
        Map<String, Tensor> saved = new LinkedHashMap<>();
        Safetensors.load(file).forEach((key, whole) -> saved.put(key, local.apply(key, whole)));
        try {
            optimizer.loadStateDict(saved, names);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Removes leftovers of interrupted writes ({@code .tmp-}, {@code .old-}, {@code .trash-} folders). */
    public static void removeIncomplete(Path runDir) throws IOException {
        Path checkpoints = runDir.resolve(DIR);
        if (!Files.isDirectory(checkpoints)) {
            return;
        }
        List<Path> leftovers;
        try (Stream<Path> entries = Files.list(checkpoints)) {
            leftovers = entries.filter(p -> p.getFileName().toString().startsWith(".")).toList();
        }
        for (Path p : leftovers) {
            deleteRecursively(p);
        }
    }

    private static void prune(Path runDir, int keep) throws IOException {
        List<Path> all = new ArrayList<>(candidates(runDir));
        for (int i = 0; i < all.size() - Math.max(1, keep); i++) {
            Path old = all.get(i);
            // Rename first, so a half-deleted folder never looks like a checkpoint.
            Path trash = old.resolveSibling(".trash-" + old.getFileName());
            Files.move(old, trash, StandardCopyOption.ATOMIC_MOVE);
            deleteRecursively(trash);
        }
        DurableFiles.force(runDir.resolve(DIR));
    }

    public static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
