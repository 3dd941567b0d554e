package nvlm.trainer.train;

import java.io.IOException;
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
 * <p>A tensor-parallel run ({@code --tp T > 1}) writes its checkpoints per rank instead (layout
 * {@code sharded}), without gathering the model on one rank: tensor-parallel rank {@code t} of the
 * first data-parallel replica writes its blocks of the split tensors (and, for {@code t = 0}, the
 * tensors every rank holds whole) to {@code model/tp-t-of-T.safetensors} and its AdamW moments to
 * {@code optimizer/tp-t-of-T.safetensors}, each forced to disk; then rank 0 writes
 * {@code model/config.json}, {@code trainer.json}, the manifest (which names every file and the
 * dimension each split tensor is split along) and {@code COMMIT} last, and renames the folder into
 * place, as above. {@link #readModel} and {@link #readOptimizer} put the blocks back together, so
 * the checkpoint resumes in one process or under any other grid (each rank then takes its blocks
 * of the whole tensors: resharded on load).
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
    /** The optimizer folder of a sharded checkpoint. */
    public static final String OPTIMIZER_SHARDS = "optimizer";

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
    public record Parallelism(int dataParallel, int tensorParallel, boolean zero, boolean sharded) {
        public Parallelism(int dataParallel, int tensorParallel) {
            this(dataParallel, tensorParallel, false);
        }

        public Parallelism(int dataParallel, int tensorParallel, boolean zero) {
            this(dataParallel, tensorParallel, zero, false);
        }

        public Parallelism {
            if (dataParallel < 1 || tensorParallel < 1) {
                throw new IllegalArgumentException("parallelism: data_parallel and tensor_parallel must be >= 1, got "
                        + dataParallel + ", " + tensorParallel);
            }
        }

        public Map<String, Object> toJson() {
            if (sharded) {
                throw new IllegalStateException("a sharded checkpoint's manifest lists its shard files: use toJson(splitDims)");
            }
            Map<String, Object> m = gridJson();
            // Written by rank 0 alone: the replicas are identical (under ZeRO-1 the optimizer state is
            // gathered first), nothing is sharded on disk.
            m.put("layout", "whole");
            m.put("files", List.of(MODEL + "/" + Checkpoint.CONFIG, MODEL + "/model.safetensors", OPTIMIZER, STATE));
            return m;
        }

        /** The fields both layouts' manifests start with: the format and the grid. */
        private Map<String, Object> gridJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("format", MANIFEST_FORMAT);
            m.put("data_parallel", (long) dataParallel);
            m.put("tensor_parallel", (long) tensorParallel);
            m.put("ranks", (long) dataParallel * tensorParallel);
            m.put("zero", zero ? 1L : 0L);
            return m;
        }

        /** The manifest of a sharded checkpoint: its files, and the dimension each split tensor is split along. */
        Map<String, Object> toJson(Map<String, Integer> splitDims) {
            Map<String, Object> m = gridJson();
            // Tensor-parallel rank t of the first data-parallel replica (world rank t) wrote the files tp-t-of-T.
            m.put("layout", "sharded");
            List<Object> files = new ArrayList<>(List.of(MODEL + "/" + Checkpoint.CONFIG));
            for (int t = 0; t < tensorParallel; t++) {
                files.add(MODEL + "/" + shardFile(t, tensorParallel));
            }
            for (int t = 0; t < tensorParallel; t++) {
                files.add(OPTIMIZER_SHARDS + "/" + shardFile(t, tensorParallel));
            }
            files.add(STATE);
            m.put("files", files);
            Map<String, Object> dims = new LinkedHashMap<>();
            splitDims.forEach((name, dim) -> dims.put(name, (long) dim));
            m.put("split_dims", dims);
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
            Object layout = m.getOrDefault("layout", "whole");
            if (!"whole".equals(layout) && !"sharded".equals(layout)) {
                throw new IllegalArgumentException(file + ": layout is " + layout + ", expected whole or sharded");
            }
            return new Parallelism(Math.toIntExact(dp), Math.toIntExact(tp), Long.valueOf(1L).equals(m.get("zero")),
                    "sharded".equals(layout));
        }

        /** A sharded checkpoint's split tensors (model parameters, by full name) and the dimension each is split along. */
        static Map<String, Integer> splitDims(Path folder) throws IOException {
            Path file = folder.resolve(MANIFEST);
            Map<String, Object> m = Json.parseObject(Files.readString(file));
            if (!(m.get("split_dims") instanceof Map<?, ?> dims)) {
                throw new IllegalArgumentException(file + ": a sharded checkpoint's manifest needs the object 'split_dims'");
            }
            Map<String, Integer> out = new LinkedHashMap<>();
            for (var e : dims.entrySet()) {
                if (!(e.getValue() instanceof Long dim) || dim < 0) {
                    throw new IllegalArgumentException(file + ": split_dims." + e.getKey() + " must be a dimension (>= 0), got "
                            + e.getValue());
                }
                out.put(String.valueOf(e.getKey()), Math.toIntExact(dim));
            }
            return out;
        }
    }

    /** {@code tp-t-of-T.safetensors}: the file tensor-parallel rank {@code t} writes. */
    public static String shardFile(int t, int tensorParallel) {
        return String.format(java.util.Locale.ROOT, "tp-%02d-of-%02d.safetensors", t, tensorParallel);
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
        Path target = target(runDir, state.step());
        Path tmp = temporary(target);
        DurableFiles.deleteTree(tmp);
        Files.createDirectories(tmp);
        Checkpoint.save(model, tmp.resolve(MODEL));
        Safetensors.save(tmp.resolve(OPTIMIZER), optimizerState);
        Files.writeString(tmp.resolve(MANIFEST), Json.writePretty(grid.toJson()));
        return commit(runDir, tmp, target, state, keep);
    }

    /** The folder a new checkpoint of {@code step} goes to: {@code step-N}, or {@code step-N.rK} when that step has one. */
    public static Path target(Path runDir, long step) throws IOException {
        Path checkpoints = Files.createDirectories(runDir.resolve(DIR));
        Path target = folder(runDir, step);
        long revision = -1;
        for (Path p : candidates(runDir)) {
            if (stepOf(p) == step) {
                revision = Math.max(revision, revisionOf(p));
            }
        }
        return revision >= 0 ? checkpoints.resolve(target.getFileName() + ".r" + (revision + 1)) : target;
    }

    /** Where the checkpoint {@code target} is written before its rename into place. */
    public static Path temporary(Path target) {
        return target.resolveSibling(".tmp-" + target.getFileName());
    }

    /**
     * The first half of a sharded checkpoint, by rank 0: an empty temporary folder for
     * {@code target} with its {@code model/} and {@code optimizer/} folders, into which each
     * writing rank then puts its shards ({@link #writeShard}).
     */
    public static Path beginSharded(Path target) throws IOException {
        Path tmp = temporary(target);
        DurableFiles.deleteTree(tmp);
        Files.createDirectories(tmp.resolve(MODEL));
        Files.createDirectories(tmp.resolve(OPTIMIZER_SHARDS));
        return tmp;
    }

    /**
     * Writes tensor-parallel rank {@code t}'s model and optimizer tensors (by full name: its
     * blocks of the split tensors, and for {@code t = 0} the whole ones) into the temporary folder
     * {@code tmp}, and forces both files to disk.
     */
    public static void writeShard(Path tmp, int t, int tensorParallel, Map<String, Tensor> model, Map<String, Tensor> optimizer)
            throws IOException {
        Path modelFile = tmp.resolve(MODEL).resolve(shardFile(t, tensorParallel));
        Path optimizerFile = tmp.resolve(OPTIMIZER_SHARDS).resolve(shardFile(t, tensorParallel));
        Safetensors.save(modelFile, model);
        Safetensors.save(optimizerFile, optimizer);
        DurableFiles.force(modelFile);
        DurableFiles.force(optimizerFile);
    }

    /**
     * The second half, by rank 0 once every writing rank's shards are on disk: the model's
     * config, trainer.json and the manifest, then {@code COMMIT} and the rename (as for a whole
     * checkpoint). Fails, naming the file, when a shard is missing.
     */
    public static Path commitSharded(Path runDir, Path tmp, Path target, nvlm.model.config.NvlmConfig config, State state,
                                     int keep, Parallelism grid, Map<String, Integer> splitDims) throws IOException {
        if (!grid.sharded()) {
            throw new IllegalArgumentException("commitSharded: the grid " + grid + " is not marked sharded");
        }
        for (int t = 0; t < grid.tensorParallel(); t++) {
            for (Path file : List.of(tmp.resolve(MODEL).resolve(shardFile(t, grid.tensorParallel())),
                    tmp.resolve(OPTIMIZER_SHARDS).resolve(shardFile(t, grid.tensorParallel())))) {
                if (!Files.isRegularFile(file)) {
                    throw new IOException(file + " is missing: tensor-parallel rank " + t + " did not write its shard"
                            + " (the run folder must be on a file system every rank sees)");
                }
            }
        }
        config.write(tmp.resolve(MODEL).resolve(Checkpoint.CONFIG));
        Files.writeString(tmp.resolve(MANIFEST), Json.writePretty(grid.toJson(splitDims)));
        return commit(runDir, tmp, target, state, keep);
    }

    /** trainer.json, every file forced, {@code COMMIT} last, one rename into place, older checkpoints pruned. */
    private static Path commit(Path runDir, Path tmp, Path target, State state, int keep) throws IOException {
        Path checkpoints = tmp.getParent();
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
    public static long revisionOf(Path folder) {
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

    /** The checkpoint's model, on {@code device} (a sharded checkpoint's blocks put back together). */
    public static Nvlm readModel(Path folder, Device device) throws IOException {
        Parallelism grid = Parallelism.read(folder);
        if (!grid.sharded()) {
            return Checkpoint.load(folder.resolve(MODEL), device);
        }
        nvlm.model.config.NvlmConfig config = Checkpoint.configOf(folder.resolve(MODEL));
        // Every parameter is overwritten below (strict), so no random values are drawn.
        Nvlm model = nvlm.tensor.nn.Init.skipped(() -> Nvlm.create(config, new java.util.SplittableRandom(0)));
        Map<String, Tensor> whole = assemble(folder.resolve(MODEL), grid.tensorParallel(), Parallelism.splitDims(folder));
        try {
            model.loadStateDict(whole, true);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(folder.resolve(MODEL) + ": " + e.getMessage(), e);
        }
        model.to(device);
        return model;
    }

    /** The whole AdamW state saved with a checkpoint ({@code <param>.exp_avg}, ...), as one process's {@code stateDict}. */
    public static Map<String, Tensor> readOptimizerState(Path folder) throws IOException {
        Parallelism grid = Parallelism.read(folder);
        if (!grid.sharded()) {
            return Safetensors.load(folder.resolve(OPTIMIZER));
        }
        Map<String, Integer> byKey = new LinkedHashMap<>();
        Parallelism.splitDims(folder).forEach((name, dim) -> {
            byKey.put(name + ".exp_avg", dim);
            byKey.put(name + ".exp_avg_sq", dim);
        });
        return assemble(folder.resolve(OPTIMIZER_SHARDS), grid.tensorParallel(), byKey);
    }

    /**
     * The whole tensors of the shard files {@code tp-t-of-T} in {@code dir}: a split tensor is its
     * blocks concatenated in rank order along its dimension, any other comes from file 0.
     */
    private static Map<String, Tensor> assemble(Path dir, int tensorParallel, Map<String, Integer> splitDims) throws IOException {
        List<Map<String, Tensor>> shards = new ArrayList<>();
        for (int t = 0; t < tensorParallel; t++) {
            shards.add(Safetensors.load(dir.resolve(shardFile(t, tensorParallel))));
        }
        Map<String, Tensor> whole = new LinkedHashMap<>();
        for (var e : shards.getFirst().entrySet()) {
            Integer dim = splitDims.get(e.getKey());
            if (dim == null) {
                whole.put(e.getKey(), e.getValue());
                continue;
            }
            List<Tensor> blocks = new ArrayList<>();
            for (int t = 0; t < tensorParallel; t++) {
                Tensor block = shards.get(t).get(e.getKey());
                Path file = dir.resolve(shardFile(t, tensorParallel));
                if (block == null) {
                    throw new IllegalArgumentException(file + ": no tensor " + e.getKey() + ", which the manifest splits"
                            + " along dimension " + dim + " across " + tensorParallel + " shards");
                }
                if (block.dim() <= dim || !sameExcept(block.shape(), e.getValue().shape(), dim)) {
                    throw new IllegalArgumentException(file + ": block of " + e.getKey() + " has shape "
                            + java.util.Arrays.toString(block.shape()) + ", not that of shard 0's "
                            + java.util.Arrays.toString(e.getValue().shape()) + " along every dimension but " + dim);
                }
                blocks.add(block);
            }
            whole.put(e.getKey(), Tensor.cat(dim, blocks));
        }
        for (int t = 1; t < tensorParallel; t++) {
            for (String name : shards.get(t).keySet()) {
                if (!splitDims.containsKey(name) || !shards.getFirst().containsKey(name)) {
                    throw new IllegalArgumentException(dir.resolve(shardFile(t, tensorParallel)) + ": tensor " + name
                            + " is not a block of a split tensor of shard 0 (only rank 0 writes whole tensors)");
                }
            }
        }
        return whole;
    }

    private static boolean sameExcept(long[] a, long[] b, int dim) {
        if (a.length != b.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if (i != dim && a[i] != b[i]) {
                return false;
            }
        }
        return true;
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
        Path file = Parallelism.read(folder).sharded() ? folder.resolve(OPTIMIZER_SHARDS) : folder.resolve(OPTIMIZER);
        Map<String, Tensor> saved = new LinkedHashMap<>();
        readOptimizerState(folder).forEach((key, whole) -> saved.put(key, local.apply(key, whole)));
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
            DurableFiles.deleteTree(p);
        }
    }

    private static void prune(Path runDir, int keep) throws IOException {
        List<Path> all = new ArrayList<>(candidates(runDir));
        for (int i = 0; i < all.size() - Math.max(1, keep); i++) {
            Path old = all.get(i);
            // Rename first, so a half-deleted folder never looks like a checkpoint.
            Path trash = old.resolveSibling(".trash-" + old.getFileName());
            Files.move(old, trash, StandardCopyOption.ATOMIC_MOVE);
            DurableFiles.deleteTree(trash);
        }
        DurableFiles.force(runDir.resolve(DIR));
    }
}
