package nvlm.trainer.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import nvlm.comm.Communicator;
import nvlm.comm.Reduction;
import nvlm.kernels.DType;
import nvlm.model.Batch;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.xattn.GatedCrossAttention;
import nvlm.tensor.Device;
import nvlm.tensor.F;
import nvlm.tensor.GradMode;
import nvlm.tensor.MemoryScope;
import nvlm.tensor.Tensor;
import nvlm.tensor.io.AtomicFolder;
import nvlm.tensor.io.DurableFiles;
import nvlm.tensor.io.Json;
import nvlm.tensor.nn.Parameter;
import nvlm.tensor.optim.AdamW;
import nvlm.tensor.optim.CosineSchedule;
import nvlm.tensor.optim.GradClip;
import nvlm.trainer.parallel.ParallelGrid;
import nvlm.trainer.parallel.TensorParallelLanguageModel;
import nvlm.trainer.recipe.StageConfig;

/**
 * The training loop of one stage (docs/model.md §11). Per optimizer step:
 * <ol>
 *   <li>the step's {@code gradAccumulation} micro-batches are fetched from the {@link BatchSource};</li>
 *   <li>each micro-batch's mean loss is back-propagated with weight
 *       {@code labelled(micro) / labelled(step)}, so the accumulated gradient is the gradient of
 *       the mean loss over every labelled token of the step, exactly what one batch holding all
 *       the rows would give (docs/model.md §8), whatever the micro-batches' label counts;</li>
 *   <li>a non-finite loss or gradient norm stops training before the parameters change
 *       ({@link TrainingDivergedException});</li>
 *   <li>gradients are clipped to the global norm {@code clipNorm};</li>
 *   <li>the learning rate is the cosine schedule's for this step; AdamW steps; gradients are cleared.</li>
 * </ol>
 * Each step runs in a {@link MemoryScope} (each micro-batch in a nested one), so activations go
 * back to the pool when it ends. The trainer draws no random numbers and the batches are a pure
 * function of the step, so a run resumed from a checkpoint computes the same bits as one that
 * never stopped.
 *
 * <p>Data parallel ({@link TrainerOptions#communicator()} of several ranks, {@link DataParallel}):
 * every rank holds the model and takes its share of each step's micro-batches; the label counts,
 * losses and gradients are summed across ranks before clipping and the optimizer, so every rank
 * makes the same update as one process taking all the micro-batches would. Only rank 0 writes
 * the run folder (stage.json, metrics.jsonl, checkpoints, model/), which is therefore laid out as
 * a single process's; the other ranks show no progress.
 *
 * <p>Tensor parallel ({@link TrainerOptions#tensorParallel()} T > 1, {@link ParallelGrid}): the
 * ranks form a T x (ranks / T) grid; each group of T ranks splits the decoder Megatron-style
 * ({@link TensorParallelLanguageModel}) and takes the same micro-batches, and data parallelism
 * runs between the groups over the ranks holding the same blocks. The vision encoder and the
 * projector are replicated. The gradient norm sums the blocks' squares across the group. For
 * evaluation and the final model the blocks are gathered into the whole model; checkpoints are
 * written per rank, each its blocks ({@link TrainingCheckpoint}, layout sharded), and put back
 * together on load, so they resume in one process or under any grid.
 *
 * <p>Run folder:
 * <pre>
 * &lt;run&gt;/stage.json      the StageConfig
 * &lt;run&gt;/metrics.jsonl   one record per step, evaluations, stop reasons ({@link MetricsLog})
 * &lt;run&gt;/checkpoints/    resumable checkpoints ({@link TrainingCheckpoint})
 * &lt;run&gt;/model/          the final model folder (config.json, model.safetensors) once the stage completes
 * </pre>
 */
public final class Trainer {
    public static final String STAGE_FILE = "stage.json";
    public static final String MODEL_DIR = "model";
    private static final String LANGUAGE_MODEL = "language_model.";
    /** Smoothing of the displayed loss (an exponential moving average, bias-corrected). */
    private static final double LOSS_SMOOTHING = 0.9;
    /** How long a Ctrl-C waits for the current step and the checkpoint before the JVM exits anyway. */
    private static final long INTERRUPT_WAIT_SECONDS = 600;

    private final Nvlm model;
    private final StageConfig config;
    private final BatchSource source;
    private final Path runDir;
    private final TrainerOptions options;
    private final Map<String, Parameter> trainable;
    private final List<Parameter> trainableList;
    private final AdamW optimizer;
    private final CosineSchedule schedule;
    private final MetricsLog metrics;
    private final Device device;
    private final ParallelGrid grid;
    /** This rank's block of the decoder under tensor parallelism (null: the model's own decoder computes). */
    private final TensorParallelLanguageModel shard;
    /** The trainable parameters split across the tensor-parallel group (their squares are summed across it). */
    private final List<Parameter> splitParameters;
    /** The replicated trainable parameters (every tensor-parallel rank holds them whole). */
    private final List<Parameter> wholeParameters;
    /** The step at which the whole model last received the shards' values (-1: never). */
    private long wholeModelStep = -1;
    private final DataParallel dataParallel;
    /** Data parallel with the all-reduces overlapped with the backward pass (null: summed after it, or one replica). */
    private final Reducer reducer;
    private final boolean writer;
    /** ZeRO-1: the rank that updates each trainable parameter (null: every rank updates all). */
    private final int[] owners;
    /** The trainable parameters whose optimizer state this rank keeps, by name. */
    private final Map<String, Parameter> optimized;

    private long step;
    private double lossAverage;
    private long tokens;
    private long samples;
    private double trainSeconds;
    private Path lastCheckpoint;
    private Map<String, Double> lastEvaluation;
    private volatile boolean stopRequested;
    private volatile CountDownLatch finished = new CountDownLatch(0);

    /** What one optimizer step did. */
    public record StepRecord(long step, double loss, double lr, double gradNorm, long tokens, long labelledTokens,
                             long samples, double seconds) {
    }

    private Trainer(Nvlm model, StageConfig config, BatchSource source, Path runDir, TrainerOptions options,
                    MetricsLog metrics) {
        this.model = model;
        this.config = config;
        this.source = source;
        this.runDir = runDir;
        this.options = options;
        this.metrics = metrics;
        config.applyTo(model);
        model.train(true);
        this.grid = ParallelGrid.of(options.communicator(), options.tensorParallel());
        Map<String, Parameter> wholeTrainable = ParameterGroups.trainable(model);
        List<AdamW.Group> groups;
        if (grid.splitsTheModel()) {
            // The stage's flags are on the whole model: the shard copies them.
            this.shard = new TensorParallelLanguageModel(grid.tensorParallel(), model.languageModel());
            Map<String, Parameter> computed = new LinkedHashMap<>();
            wholeTrainable.forEach((name, p) -> {
                if (!name.startsWith(LANGUAGE_MODEL)) {
                    computed.put(name, p);
                }
            });
            Map<String, Parameter> wholeParams = model.namedParameters();
            java.util.Set<Parameter> decayed = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            List<Parameter> split = new ArrayList<>();
            List<Parameter> whole = new ArrayList<>();
            ParameterGroups.trainable(shard).forEach((name, p) -> {
                computed.put(LANGUAGE_MODEL + name, p);
                if (ParameterGroups.decays(wholeParams.get(LANGUAGE_MODEL + name))) {
                    decayed.add(p);
                }
                (shard.splitDimOf(name) >= 0 ? split : whole).add(p);
            });
            computed.forEach((name, p) -> {
                if (!name.startsWith(LANGUAGE_MODEL)) {
                    whole.add(p);
                    if (ParameterGroups.decays(p)) {
                        decayed.add(p);
                    }
                }
            });
            this.trainable = computed;
            this.splitParameters = List.copyOf(split);
            this.wholeParameters = List.copyOf(whole);
            groups = ParameterGroups.of(List.copyOf(computed.values()), decayed::contains, config);
        } else {
            this.shard = null;
            this.trainable = wholeTrainable;
            this.splitParameters = List.of();
            this.wholeParameters = List.copyOf(wholeTrainable.values());
            groups = ParameterGroups.of(model, config);
        }
        this.trainableList = List.copyOf(trainable.values());
        this.schedule = config.schedule();
        this.device = trainableList.getFirst().value().device();
        this.dataParallel = new DataParallel(grid.dataParallel(), options.bucketBytes());
        this.reducer = grid.dataParallel().size() > 1 && options.overlapGradReduce()
                ? new Reducer(grid.dataParallel(), trainableList, options.bucketBytes()) : null;
        if (options.zero() && grid.dataParallel().size() > 1) {
            this.owners = dataParallel.owners(trainableList);
            java.util.Set<Parameter> mine = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            for (int i = 0; i < owners.length; i++) {
                if (owners[i] == grid.dataParallel().rank()) {
                    mine.add(trainableList.get(i));
                }
            }
            List<AdamW.Group> owned = new java.util.ArrayList<>();
            for (AdamW.Group g : groups) {
                owned.add(new AdamW.Group(g.params().stream().filter(mine::contains).toList(), g.lr(), g.weightDecay(), config.beta1(),
                        config.beta2(), config.eps()));
            }
            groups = owned;
            Map<String, Parameter> subset = new LinkedHashMap<>();
            trainable.forEach((name, p) -> {
                if (mine.contains(p)) {
                    subset.put(name, p);
                }
            });
            this.optimized = subset;
        } else {
            this.owners = null;
            this.optimized = trainable;
        }
        this.optimizer = new AdamW(groups);
        this.writer = options.communicator().rank() == 0;
        dataParallel.requireEvenShare(config.gradAccumulation());
        source.takeEvery(grid.dataParallel().size());
    }

    /**
     * A fresh stage on {@code model} in the empty (or new) folder {@code runDir}. Sets the
     * stage's trainable flags on the model (vision always frozen).
     */
    public static Trainer start(Nvlm model, StageConfig config, BatchSource source, Path runDir, TrainerOptions options)
            throws IOException {
        Communicator comm = options.communicator();
        if (comm.rank() != 0) {
            // Rank 0 alone writes the run folder; the others wait until it is ready.
            comm.barrier();
            return new Trainer(model, config, source, runDir, options, MetricsLog.none(runDir.resolve(MetricsLog.FILE)));
        }
        Files.createDirectories(runDir);
        RunLock.acquire(runDir);
        TrainingCheckpoint.removeIncomplete(runDir);
        var existing = TrainingCheckpoint.latest(runDir);
        if (existing.isPresent()) {
            throw new IllegalStateException(runDir + " already holds checkpoints (newest: " + existing.get().getFileName()
                    + "); resume that run or choose another run folder");
        }
        DurableFiles.writeString(runDir.resolve(STAGE_FILE), Json.writePretty(config.toJson()));
        MetricsLog metrics = MetricsLog.open(runDir.resolve(MetricsLog.FILE), 0);
        comm.barrier();
        return new Trainer(model, config, source, runDir, options, metrics);
    }

    /**
     * Continues the run in {@code runDir} from its newest checkpoint: model, optimizer moments,
     * step and the metrics log (cut back to the checkpoint) are restored, and the next batch is
     * the one an uninterrupted run would have taken. {@code source} must be built with the same
     * data seed as the original run.
     */
    public static Trainer resume(Path runDir, BatchSource source, TrainerOptions options) throws IOException {
        Communicator comm = options.communicator();
        boolean writer = comm.rank() == 0;
        if (writer) {
            RunLock.acquire(runDir);
            TrainingCheckpoint.removeIncomplete(runDir);
        }
        comm.barrier();
        // Every rank picks the same checkpoint (same files); rank 0 alone says what it skipped.
        Path checkpoint = TrainingCheckpoint.usable(runDir, writer ? System.err::println : skipped -> { }).orElseThrow(
                () -> new IllegalStateException(
                "nothing to resume: " + runDir.resolve(TrainingCheckpoint.DIR) + " holds no complete checkpoint"));
        TrainingCheckpoint.State state = TrainingCheckpoint.readState(checkpoint);
        Nvlm model = TrainingCheckpoint.readModel(checkpoint, options.device());
        // Every rank reads the same checkpoint (the run folder must be on a file system they share).
        MetricsLog metrics = writer ? MetricsLog.open(runDir.resolve(MetricsLog.FILE), state.metricsLength())
                : MetricsLog.none(runDir.resolve(MetricsLog.FILE));
        Trainer trainer = new Trainer(model, state.config(), source, runDir, options, metrics);
        // Under ZeRO-1 each rank takes its own parameters' moments from the whole state on disk.
        // Under tensor parallelism each rank takes its block of the split parameters' moments.
        TrainingCheckpoint.readOptimizer(checkpoint, trainer.optimizer, trainer.optimized, trainer::localBlock);
        if (trainer.optimizer.stepCount() != state.step()) {
            throw new IllegalStateException(checkpoint + ": optimizer state has " + trainer.optimizer.stepCount()
                    + " steps but trainer.json says " + state.step());
        }
        trainer.step = state.step();
        trainer.lossAverage = state.smoothedLoss();
        trainer.tokens = state.tokens();
        trainer.samples = state.samples();
        trainer.trainSeconds = state.trainSeconds();
        trainer.lastCheckpoint = checkpoint;
        return trainer;
    }

    public Nvlm model() {
        return model;
    }

    public StageConfig config() {
        return config;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    /** The trainable parameters by full name (what the optimizer updates). */
    public Map<String, Parameter> trainableParameters() {
        return trainable;
    }

    public Path runDir() {
        return runDir;
    }

    /** Optimizer steps completed. */
    public long step() {
        return step;
    }

    /** The newest checkpoint written or resumed from (null before the first). */
    public Path lastCheckpoint() {
        return lastCheckpoint;
    }

    /** The latest evaluation result (null before any). */
    public Map<String, Double> lastEvaluation() {
        return lastEvaluation;
    }

    /**
     * Asks the loop to stop: a step in progress is abandoned between micro-batches (its
     * gradients are dropped, parameters untouched) or finished if already past them, then a
     * checkpoint is written and {@link #run()} returns INTERRUPTED. Safe from any thread.
     */
    public void requestStop() {
        stopRequested = true;
    }

    /**
     * Trains until the stage's last step or a stop request. Writes a checkpoint every
     * {@code checkpointEvery} steps, at the end and on interrupt, and the final model folder
     * when complete.
     *
     * @throws TrainingDivergedException on a NaN or infinite loss or gradient norm (no checkpoint
     *                                   is written; the newest on disk is the last good one)
     */
    public TrainResult run() throws IOException {
        finished = new CountDownLatch(1);
        Thread hook = options.handleInterrupts() ? installInterruptHook() : null;
        long linesEvery = options.linesEvery() > 0 ? options.linesEvery() : ProgressBar.defaultLinesEvery(config.totalSteps());
        ProgressBar bar = new ProgressBar(options.progressOut(), writer ? options.progress() : ProgressBar.Mode.OFF,
                "stage " + config.stage().number(),
                config.totalSteps(), linesEvery);
        long startStep = step;
        long startTokens = tokens;
        long startSamples = samples;
        long startNanos = System.nanoTime();
        double lastLoss = Double.NaN;
        try {
            bar.message(banner(startStep));
            while (step < config.totalSteps() && !stopRequested) {
                StepRecord record = trainStep();
                if (record == null) {
                    break; // abandoned on a stop request
                }
                lastLoss = record.loss();
                metrics.append(trainRecord(record));
                double elapsed = (System.nanoTime() - startNanos) / 1e9;
                long done = step - startStep;
                bar.update(step, smoothedLoss(), record.lr(), (tokens - startTokens) / elapsed, (samples - startSamples) / elapsed,
                        (config.totalSteps() - step) * elapsed / done);
                boolean last = step == config.totalSteps();
                // Evaluate before checkpointing, so the checkpoint's metrics length includes the record.
                if (!last && options.evaluator() != null && options.evalEvery() > 0 && step % options.evalEvery() == 0) {
                    gatherWholeModel();
                    if (writer) {
                        evaluate();
                    }
                }
                if (!last && options.checkpointEvery() > 0 && step % options.checkpointEvery() == 0) {
                    saveCheckpoint();
                }
            }
            if (step >= config.totalSteps()) {
                if (options.evaluator() != null) {
                    gatherWholeModel();
                }
                if (writer && options.evaluator() != null) {
                    bar.finish(); // the final evaluation may show its own progress on the next line
                    evaluate();
                }
                Path checkpoint = saveCheckpoint();
                Path modelDir = writeFinalModel();
                bar.message(String.format(Locale.ROOT, "stage %d done: %d steps, loss %.4f; model in %s",
                        config.stage().number(), step, smoothedLoss(), modelDir));
                return new TrainResult(TrainResult.Status.COMPLETED, step, lastLoss, checkpoint, modelDir);
            }
            Path checkpoint = lastCheckpoint != null && TrainingCheckpoint.stepOf(lastCheckpoint) == step
                    ? lastCheckpoint : saveCheckpoint();
            metrics.append(stopRecord("interrupted", "stopped on request after step " + step));
            bar.message("interrupted after step " + step + " of " + config.totalSteps() + ": checkpoint saved to " + checkpoint
                    + "; resume the run to continue");
            return new TrainResult(TrainResult.Status.INTERRUPTED, step, lastLoss, checkpoint, null);
        } catch (TrainingDivergedException e) {
            metrics.append(stopRecord("diverged", e.getMessage()));
            bar.message(e.getMessage());
            throw e;
        } finally {
            bar.finish();
            finished.countDown();
            if (hook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // The JVM is exiting (Ctrl-C): the hook is running and waits for the latch above.
                }
            }
        }
    }

    /**
     * One optimizer step (the next one). Returns null when a stop request abandoned it before
     * the optimizer ran; the parameters and optimizer are then untouched.
     */
    public StepRecord trainStep() {
        long next = step + 1;
        double lr = schedule.lr(Math.toIntExact(next));
        long start = System.nanoTime();
        Accumulated acc;
        double gradNorm;
        try (var _ = MemoryScope.open()) {
            acc = accumulateGradients(next);
            if (acc == null) {
                return null;
            }
            if (reducer != null) {
                reducer.finish();
            } else {
                dataParallel.allReduceGradients(trainableList);
            }
            gradNorm = gradientNorm();
            GradClip.clipToNorm(trainableList, gradNorm, config.clipNorm() > 0 ? config.clipNorm() : Double.POSITIVE_INFINITY);
            if (!Double.isFinite(gradNorm)) {
                zeroGrad();
                throw new TrainingDivergedException(next, "gradient norm", gradNorm, "loss " + acc.loss(), lastCheckpoint);
            }
            optimizer.setLearningRate(lr);
            optimizer.step();
            if (owners != null) {
                dataParallel.broadcastFromOwners(trainableList, owners);
            }
            zeroGrad();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        step = next;
        lossAverage = LOSS_SMOOTHING * lossAverage + (1 - LOSS_SMOOTHING) * acc.loss();
        tokens += acc.tokens();
        samples += acc.samples();
        trainSeconds += seconds;
        return new StepRecord(next, acc.loss(), lr, gradNorm, acc.tokens(), acc.labelledTokens(), acc.samples(), seconds);
    }

    /**
     * The global L2 norm of the step's gradient: under tensor parallelism the split parameters'
     * squares are summed across the group (each block once) and the replicated ones counted once.
     */
    private double gradientNorm() {
        if (shard == null) {
            return Math.sqrt(GradClip.sumOfSquares(trainableList));
        }
        double[] split = {GradClip.sumOfSquares(splitParameters)};
        grid.tensorParallel().allReduce(split, Reduction.SUM);
        return Math.sqrt(GradClip.sumOfSquares(wholeParameters) + split[0]);
    }

    /** Clears every trainable parameter's gradient (under ZeRO-1 the optimizer holds only this rank's share). */
    private void zeroGrad() {
        for (Parameter p : trainableList) {
            p.zeroGrad();
        }
    }

    /** The forward/backward half of a step: the step's mean loss and what it was taken over. */
    record Accumulated(double loss, long labelledTokens, long tokens, long samples) {
    }

    /**
     * Forward and backward over the micro-batches of {@code batchStep}, leaving the accumulated
     * gradient of the step's mean loss on the trainable parameters. Null when a stop request
     * abandoned it (gradients cleared). Runs in the caller's memory scope.
     */
    Accumulated accumulateGradients(long batchStep) {
        int k = config.gradAccumulation();
        Communicator comm = dataParallel.communicator(); // the tensor-parallel ranks of a group take the same micro-batches
        Batch[] batches = new Batch[k];
        // Per micro-batch: labelled tokens, then tokens and rows; each rank fills in its own
        // micro-batches and the sum over ranks gives every rank the whole step's counts.
        double[] counts = new double[3 * k];
        for (int i = 0; i < k; i++) {
            if (dataParallel.owns(i)) {
                batches[i] = source.batch(batchStep, i);
                counts[i] = labelledTokens(batches[i]);
                counts[k + i] = source.tokensIn(batches[i]);
                counts[2 * k + i] = batches[i].rows();
            }
        }
        comm.allReduce(counts, Reduction.SUM);
        long labelled = 0;
        long stepTokens = 0;
        long stepSamples = 0;
        for (int i = 0; i < k; i++) {
            labelled += (long) counts[i];
            stepTokens += (long) counts[k + i];
            stepSamples += (long) counts[2 * k + i];
        }
        if (labelled == 0) {
            throw new IllegalStateException("step " + batchStep + ": none of its " + k + " micro-batches has a labelled token"
                    + " (every label after the first position is -100); the data source must give each step some labels");
        }
        // The loss of this rank's share, and the first non-finite micro-batch loss (NaN: none);
        // summed across ranks, so that every rank stops at the same step.
        double[] lossAndBad = {0, Double.NaN, -1};
        // After this rank's last backward of the step no gradient changes: only that one starts
        // the buckets' all-reduces as it goes (the earlier ones accumulate, as under DDP's no_sync).
        int lastBackward = -1;
        for (int i = 0; i < k; i++) {
            if (batches[i] != null && counts[i] != 0) {
                lastBackward = i;
            }
        }
        if (reducer != null) {
            reducer.begin();
        }
        for (int i = 0; i < k; i++) {
            if (stopRequested) {
                if (reducer != null) {
                    reducer.abandon();
                }
                zeroGrad();
                return null;
            }
            if (batches[i] == null || counts[i] == 0) {
                continue; // another rank's, or without labels: adds nothing to this rank's share
            }
            try (var _ = MemoryScope.open()) {
                Tensor microLoss = shard == null ? model.forward(batches[i].to(device)).loss() : model.loss(batches[i].to(device), shard);
                double value = microLoss.item();
                if (!Double.isFinite(value)) {
                    zeroGrad();
                    if (comm.size() == 1) {
                        throw new TrainingDivergedException(batchStep, "loss", value, "micro-batch " + i + " of " + k, lastCheckpoint);
                    }
                    lossAndBad[1] = value;
                    lossAndBad[2] = i;
                    break;
                }
                // d(step mean)/d(micro mean) = labelled(micro) / labelled(step): seeding backward with
                // it makes the accumulated gradient that of one batch holding every row (docs/model.md §8).
                double weight = counts[i] / labelled;
                if (microLoss.requiresGrad()) {
                    try (var _ = reducer != null && i == lastBackward ? reducer.armHooks() : null) {
                        microLoss.backward(Tensor.full(microLoss.device(), DType.F32, weight));
                    }
                }
                // else no trainable parameter reaches this micro-batch (a text-only batch of NVLM-X
                // with the LLM frozen): it adds no gradient, and a parameter left without one is
                // not updated at all, as PyTorch's optimizers skip a None gradient.
                lossAndBad[0] += weight * value;
            }
        }
        if (reducer != null) {
            // Every rank starts every bucket, in order, before the next collective (also a rank
            // that stopped at a non-finite loss), so the ranks' collectives stay matched.
            reducer.launchRemaining();
        }
        if (comm.size() > 1) {
            double[] bad = {Double.isNaN(lossAndBad[1]) ? -1 : lossAndBad[2]};
            double[] loss = {lossAndBad[0]};
            comm.allReduce(loss, Reduction.SUM);
            comm.allReduce(bad, Reduction.MAX);
            if (bad[0] >= 0) {
                if (reducer != null) {
                    reducer.abandon();
                }
                zeroGrad();
                throw new TrainingDivergedException(batchStep, "loss", Double.NaN, "micro-batch " + (int) bad[0] + " of " + k
                        + " (on rank " + ((int) bad[0] % comm.size()) + ")", lastCheckpoint);
            }
            lossAndBad[0] = loss[0];
        }
        return new Accumulated(lossAndBad[0], labelled, stepTokens, stepSamples);
    }

    /**
     * Tokens the loss is taken over: labels other than -100 at positions 1..T-1 (the model
     * shifts, docs/model.md §8, so a label at position 0 is never predicted).
     */
    public static long labelledTokens(Batch batch) {
        long[] labels = batch.labels().toLongArray();
        int length = Math.toIntExact(batch.length());
        long n = 0;
        for (int i = 0; i < labels.length; i++) {
            if (i % length != 0 && labels[i] != F.IGNORE_INDEX) {
                n++;
            }
        }
        return n;
    }

    /** Writes a checkpoint of the current step now (also what the Ctrl-C path calls). */
    public Path saveCheckpoint() throws IOException {
        Communicator comm = grid.world();
        Map<String, Tensor> optimizerState = owners == null ? optimizer.stateDict(trainable)
                : dataParallel.gatherOptimizerState(optimizer.stateDict(optimized), trainable, owners);
        if (shard != null) {
            return saveShardedCheckpoint(optimizerState);
        }
        if (writer) {
            TrainingCheckpoint.State state = new TrainingCheckpoint.State(step, config, metrics.length(), lossAverage, tokens,
                    samples, trainSeconds);
            // The replicas are identical: rank 0's model and optimizer are the whole state.
            lastCheckpoint = TrainingCheckpoint.write(runDir, model, optimizerState, state, options.keepCheckpoints(),
                    new TrainingCheckpoint.Parallelism(grid.dataParallel().size(), grid.tensorParallel().size(), owners != null));
        } else {
            lastCheckpoint = TrainingCheckpoint.folder(runDir, step);
        }
        // No rank runs ahead of a checkpoint: when one fails later, the newest checkpoint is complete.
        comm.barrier();
        return lastCheckpoint;
    }

    /**
     * A tensor-parallel checkpoint written per rank ({@link TrainingCheckpoint}, layout sharded):
     * the ranks of the first data-parallel replica each write their blocks (rank 0 also the
     * tensors held whole), then rank 0 commits. {@code optimizerState}: this rank's AdamW state by
     * whole-model names (its blocks of the split parameters; whole over the replicas under ZeRO-1).
     */
    private Path saveShardedCheckpoint(Map<String, Tensor> optimizerState) throws IOException {
        Communicator comm = grid.world();
        int t = grid.tensorParallel().rank();
        int size = grid.tensorParallel().size();
        // Rank 0 alone picks the folder (a step saved twice gets .rK) and makes it; the others learn its revision.
        Path target = writer ? TrainingCheckpoint.target(runDir, step) : null;
        if (writer) {
            TrainingCheckpoint.beginSharded(target);
        }
        double[] revision = {writer ? TrainingCheckpoint.revisionOf(target) : -1};
        comm.allReduce(revision, Reduction.MAX);
        Path folder = TrainingCheckpoint.folder(runDir, step);
        if (revision[0] > 0) {
            folder = folder.resolveSibling(folder.getFileName() + ".r" + (long) revision[0]);
        }
        Map<String, Integer> splitDims = new LinkedHashMap<>();
        shard.namedParameters().keySet().forEach(name -> {
            if (shard.splitDimOf(name) >= 0) {
                splitDims.put(LANGUAGE_MODEL + name, shard.splitDimOf(name));
            }
        });
        if (grid.dataParallel().rank() == 0) {
            Map<String, Tensor> modelPart = new LinkedHashMap<>();
            if (t == 0) {
                model.stateDict().forEach((name, value) -> {
                    if (!name.startsWith(LANGUAGE_MODEL)) {
                        modelPart.put(name, value);
                    }
                });
            }
            shard.namedParameters().forEach((name, p) -> {
                if (t == 0 || splitDims.containsKey(LANGUAGE_MODEL + name)) {
                    modelPart.put(LANGUAGE_MODEL + name, p.value().detach());
                }
            });
            Map<String, Tensor> optimizerPart = new LinkedHashMap<>();
            optimizerState.forEach((key, value) -> {
                String name = parameterOf(key);
                if (t == 0 || name != null && splitDims.containsKey(name)) {
                    optimizerPart.put(key, value);
                }
            });
            TrainingCheckpoint.writeShard(TrainingCheckpoint.temporary(folder), t, size, modelPart, optimizerPart);
        }
        // Every shard is on disk before rank 0 commits.
        comm.barrier();
        if (writer) {
            TrainingCheckpoint.State state = new TrainingCheckpoint.State(step, config, metrics.length(), lossAverage, tokens,
                    samples, trainSeconds);
            TrainingCheckpoint.commitSharded(runDir, TrainingCheckpoint.temporary(folder), folder, model.config(), state,
                    options.keepCheckpoints(), new TrainingCheckpoint.Parallelism(grid.dataParallel().size(), size, owners != null,
                            true), splitDims);
        }
        lastCheckpoint = folder;
        // No rank runs ahead of a checkpoint: when one fails later, the newest checkpoint is complete.
        comm.barrier();
        return lastCheckpoint;
    }

    /**
     * Writes the shards' values into the whole model's decoder (a collective over the
     * tensor-parallel group): what evaluation and the final model read.
     */
    private void gatherWholeModel() {
        if (shard == null || wholeModelStep == step) {
            return;
        }
        try (var _ = GradMode.disabled()) {
            model.languageModel().loadStateDict(shard.wholeStateDict(), true);
        }
        wholeModelStep = step;
    }

    /** This rank's part of a whole optimizer tensor {@code key} read from a checkpoint. */
    private Tensor localBlock(String key, Tensor whole) {
        String name = parameterOf(key);
        if (shard == null || name == null || !name.startsWith(LANGUAGE_MODEL)) {
            return whole;
        }
        return shard.blockOf(name.substring(LANGUAGE_MODEL.length()), whole);
    }

    /** The parameter an optimizer state key belongs to ({@code <param>.exp_avg}), or null ({@code step}). */
    private static String parameterOf(String key) {
        for (String suffix : List.of(".exp_avg_sq", ".exp_avg")) {
            if (key.endsWith(suffix)) {
                return key.substring(0, key.length() - suffix.length());
            }
        }
        return null;
    }

    /** The displayed loss: the moving average corrected for its zero start. */
    public double smoothedLoss() {
        return step == 0 ? Double.NaN : lossAverage / (1 - Math.pow(LOSS_SMOOTHING, step));
    }

    private void evaluate() throws IOException {
        Map<String, Double> accuracy;
        model.eval();
        try (var _ = GradMode.disabled(); var _ = MemoryScope.open()) {
            accuracy = options.evaluator().evaluate(model);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("evaluation at step " + step + " failed: " + e.getMessage(), e);
        } finally {
            model.train(true);
        }
        lastEvaluation = Map.copyOf(accuracy);
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("type", "eval");
        record.put("stage", (long) config.stage().number());
        record.put("step", step);
        Map<String, Object> values = new LinkedHashMap<>();
        new java.util.TreeMap<>(accuracy).forEach(values::put);
        record.put("accuracy", values);
        metrics.append(record);
    }

    private Path writeFinalModel() throws IOException {
        Path target = runDir.resolve(MODEL_DIR);
        gatherWholeModel();
        if (!writer) {
            grid.world().barrier();
            return target;
        }
        // One rename switches model/ from the old complete folder to the new one (a kill -9 leaves either).
        AtomicFolder.replace(target, folder -> Checkpoint.save(model, folder));
        DurableFiles.deleteTree(runDir.resolve("." + MODEL_DIR + ".tmp")); // an older build's leftover
        grid.world().barrier();
        return target;
    }

    private Map<String, Object> trainRecord(StepRecord r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "train");
        m.put("stage", (long) config.stage().number());
        m.put("step", r.step());
        m.put("loss", r.loss());
        m.put("lr", r.lr());
        m.put("grad_norm", r.gradNorm());
        m.put("tokens", r.tokens());
        m.put("labelled_tokens", r.labelledTokens());
        m.put("samples", r.samples());
        m.put("seconds", r.seconds());
        m.put("samples_per_s", r.samples() / r.seconds());
        m.put("tokens_per_s", r.tokens() / r.seconds());
        if (reducer != null) {
            // How many gradient buckets started summing during the backward pass (the rest after it).
            m.put("grad_buckets", (long) reducer.bucketCount());
            m.put("grad_buckets_overlapped", (long) reducer.launchedDuringBackward());
        }
        List<GatedCrossAttention> blocks = model.languageModel().crossAttentionBlocks();
        if (!blocks.isEmpty()) {
            // tanh of each block's gates after the step: how much each block lets through (0 at the start).
            // Under tensor parallelism the shard's replicated gates are the current ones.
            Map<String, Parameter> current = shard == null ? Map.of() : shard.namedParameters();
            List<Object> attn = new ArrayList<>();
            List<Object> ff = new ArrayList<>();
            for (int i = 0; i < blocks.size(); i++) {
                GatedCrossAttention b = blocks.get(i);
                String prefix = "model.xattn_layers." + i + ".";
                attn.add(Math.tanh(current.getOrDefault(prefix + "attn_gate", b.attnGate()).value().item()));
                ff.add(Math.tanh(current.getOrDefault(prefix + "ff_gate", b.ffGate()).value().item()));
            }
            m.put("tanh_attn_gate", attn);
            m.put("tanh_ff_gate", ff);
        }
        return m;
    }

    private Map<String, Object> stopRecord(String reason, String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "stop");
        m.put("stage", (long) config.stage().number());
        m.put("step", step);
        m.put("reason", reason);
        m.put("message", message);
        return m;
    }

    private String banner(long startStep) {
        long total = model.parameterCount();
        long training = ParameterGroups.trainable(model).values().stream().mapToLong(p -> p.value().numel()).sum();
        String from = startStep == 0 ? ""
                : startStep >= config.totalSteps() ? String.format(Locale.ROOT, "already complete at step %d (%s); ", startStep, lastCheckpoint)
                : String.format(Locale.ROOT, "resuming at step %d from %s; ", startStep + 1, lastCheckpoint);
        String ranks = grid.world().size() == 1 ? ""
                : String.format(Locale.ROOT, "; %d ranks (tensor parallel %d x data parallel %d)", grid.world().size(),
                grid.tensorParallel().size(), grid.dataParallel().size());
        return String.format(Locale.ROOT, "stage %d (NVLM-%s): %straining %s, %,d of %,d parameters; %d steps of %d x %d rows%s;"
                        + " run folder %s", config.stage().number(), model.config().architecture(), from,
                config.trainedParts(model.config().architecture()), training, total, config.totalSteps(),
                config.gradAccumulation(), config.microBatchSize(), ranks, runDir);
    }

    /**
     * Ctrl-C and SIGTERM start the JVM's shutdown; this hook asks the loop to stop and waits for
     * it to save the checkpoint, so the process exits only after the checkpoint is on disk.
     */
    private Thread installInterruptHook() {
        CountDownLatch done = finished;
        Thread hook = new Thread(() -> {
            requestStop();
            options.progressOut().println();
            options.progressOut().println("interrupt: stopping after the current step and saving a checkpoint...");
            options.progressOut().flush();
            try {
                done.await(INTERRUPT_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "nvlm-trainer-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }
}
