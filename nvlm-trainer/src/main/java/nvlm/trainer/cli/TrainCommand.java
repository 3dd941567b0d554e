package nvlm.trainer.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import nvlm.comm.Communicator;
import nvlm.comm.MpiRun;
import nvlm.comm.World;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.checkpoint.ModelFolder;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.tensor.io.DurableFiles;
import nvlm.trainer.backbone.Backbones;
import nvlm.trainer.data.LlavaDataset;
import nvlm.trainer.pipeline.DataSpec;
import nvlm.trainer.pipeline.RunFingerprint;
import nvlm.trainer.pipeline.Demo;
import nvlm.trainer.pipeline.NewModel;
import nvlm.trainer.recipe.StageOverrides;
import nvlm.trainer.recipe.StageRecipe;
import nvlm.trainer.pipeline.WorldStage;
import nvlm.trainer.train.BatchFiles;
import nvlm.trainer.train.BatchSource;
import nvlm.trainer.train.DataParallel;
import nvlm.trainer.train.LoaderBatches;
import nvlm.trainer.train.MetricsLog;
import nvlm.trainer.recipe.Stage;
import nvlm.trainer.recipe.StageConfig;
import nvlm.trainer.train.TrainResult;
import nvlm.trainer.train.Trainer;
import nvlm.trainer.train.TrainerOptions;
import nvlm.trainer.train.TrainingCheckpoint;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./nvlm train}: one training stage (docs/model.md §11) on the synthetic world (default), on
 * LLaVA-format data, or over docs/model.md §10 batch files; a shell around {@link Trainer}.
 */
@Command(name = "train",
        header = "train one stage (1: projector/cross-attention, 2: + LLM) on the world, LLaVA data or batch files; --resume",
        customSynopsis = {
            "nvlm train --arch d|x|h --stage 1|2 --out RUN [model] [data] [stage settings] [run options]",
            "       nvlm train --from DIR --stage 2 --out RUN ...     (continue from a model folder, e.g. stage 1's)",
            "       nvlm train --model DIR --stage 1|2 --batches DIR --out RUN ...   (docs/model.md §10 batch files)",
            "       nvlm train --resume RUN [run options]",
            "       nvlm train ... --nproc N [--tp T]  (N ranks through mpirun, T of them splitting each model copy; under"
                    + " mpirun/srun: joins them)"},
        description = """
                Trains one stage of the NVLM recipe (docs/model.md §11). The vision encoder is frozen in both stages.
                Stage 1 freezes the LLM and trains the projector (NVLM-D), the cross-attention blocks and the 1-layer
                projector (NVLM-X), or both (NVLM-H); stage 2 (SFT) also trains the LLM, with text-only tasks mixed in.
                AdamW (no weight decay on biases, norms, gates), cosine learning rate with linear warmup, global-norm
                gradient clipping, gradient accumulation weighted by labelled tokens, length-bucketed batches, loss on
                the answers only. Same inputs and seed, same bits.""",
        optionListHeading = "%nRun options:%n",
        footer = """

                With --resume the model, data and stage settings (and --out) come from the run folder; pass --batches
                again for a run over batch files. Ctrl-C finishes or abandons the current step, saves a checkpoint and
                exits (status 130). A NaN or infinite loss or gradient norm stops training with the step named and the
                last good checkpoint kept (status 1).""")
public final class TrainCommand implements NvlmCommand {
    /** The records --skip-bad-records left out, one line each, in the run folder. */
    static final String SKIPPED_FILE = "skipped-records.txt";
    private static final int SKIPPED_SHOWN = 5;

    /** Where the weights start. */
    static final class ModelOptions {
        @Option(names = "--arch", paramLabel = "d|x|h", description = "NVLM-D, NVLM-X or NVLM-H: a new model of --preset, its vision"
                + " encoder and LLM taken from the backbones, its projector (and cross-attention blocks) new")
        Architecture arch;
        @Option(names = "--preset", paramLabel = "NAME", description = "model shape for --arch (default ${DEFAULT-VALUE}; see"
                + " ./nvlm init --help)")
        String preset = "tiny";
        @Option(names = "--backbones", paramLabel = "DIR", description = "backbones folder (./nvlm pretrain-backbones); default:"
                + " the ones shipped with this build (tiny preset only)")
        Path backbones;
        @Option(names = "--vision-from", paramLabel = "DIR", description = "take the vision encoder from this model folder instead"
                + " (a real checkpoint of the same shape)")
        Path visionFrom;
        @Option(names = "--llm-from", paramLabel = "DIR", description = "take the LLM from this model folder instead")
        Path llmFrom;
        @Option(names = "--no-backbones", description = "start from random weights (for tests and ablations)")
        boolean noBackbones;
        @Option(names = "--tagged-memory", description = "x and h: add each tile's tag embedding to its cross-attention memory"
                + " rows, so the memory says which tile a token came from (a project decision beyond the paper,"
                + " docs/model.md §7; saved in config.json)")
        boolean taggedMemory;
        @Option(names = "--tags-in-sequence", description = "h: put every regular tile's tag into the decoder sequence, its"
                + " positions seeing only that tile through cross-attention, as NVLM-X's do (a project decision beyond the"
                + " paper, docs/model.md §7; saved in config.json)")
        boolean tagsInSequence;
        @Option(names = "--from", paramLabel = "DIR", description = "start from this model folder as it is (e.g. RUN/model of"
                + " stage 1 for stage 2)")
        Path from;
        @Option(names = "--model", paramLabel = "DIR", description = "the same, for batch files (--batches)")
        Path model;
    }

    /** What the stage trains on. */
    static final class DataOptions {
        @Option(names = "--world-seed", paramLabel = "S", description = "the world's seed (its train/test split); default: the"
                + " backbones' (1 when shipped), or 1")
        Long worldSeed;
        @Option(names = "--questions", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
                description = "questions per world picture (default ${DEFAULT-VALUE}): several answers share one picture")
        int questions = 1;
        @Option(names = "--llava", paramLabel = "FILE", description = "train on LLaVA-format conversations (JSON array or JSON"
                + " Lines) instead")
        Path llava;
        @Option(names = "--images", paramLabel = "DIR", description = "the folder the LLaVA file's image paths are relative to"
                + " (default: its folder); paths must stay inside it")
        Path images;
        @Option(names = "--allow-outside-images", description = "accept LLaVA image paths that are absolute or lead out of the"
                + " --images folder (../, symbolic links)")
        boolean allowOutsideImages;
        @Option(names = "--skip-bad-records", description = "skip LLaVA records that cannot be used (malformed, or a missing,"
                + " refused or unreadable image) instead of stopping at the first; the first few are named here, all of them in"
                + " RUN/" + SKIPPED_FILE)
        boolean skipBadRecords;
        @Option(names = "--max-bad-records", paramLabel = "N", converter = OptionTypes.AtLeastOne.class, description = "with"
                + " --skip-bad-records: the most records skipped; one more stops the run (default ${DEFAULT-VALUE})")
        int maxBadRecords = 100;
        @Option(names = "--parse-special-tokens", description = "let special-token text in the LLaVA records (<|im_end|>,"
                + " <|im_start|>) become those tokens; by default it is plain text, as for chat questions")
        boolean parseSpecialTokens;
        @Option(names = "--text-ratio", paramLabel = "R", description = "stage 2: fraction of text-only samples mixed in (the"
                + " recipe's, 0.2 for demo; the world's arithmetic and string tasks); stage 1 has none")
        Double textRatio;
        @Option(names = "--low-res", description = "one S x S tile per image (the paper's low-resolution baseline) instead of"
                + " dynamic high resolution with tile tags")
        boolean lowRes;
        @Option(names = "--batches", paramLabel = "DIR", description = "docs/model.md §10 batch files (./nvlm batch) instead, in file-name"
                + " order, cycled: micro-batch k of the run is file k mod N (needs --model)")
        Path batches;
    }

    /** The stage's recipe and changes to it. */
    static final class StageOptions {
        @Option(names = "--stage", paramLabel = "1|2", description = "1: pretraining (projector, cross-attention), 2: SFT")
        Stage stage;
        @Option(names = "--recipe", paramLabel = "R", defaultValue = "demo", description = "demo (default): the rates and sizes"
                + " ./nvlm demo uses at the tiny preset; toy: the paper's with learning rates raised for toy models; paper: the"
                + " paper's own (tuned for 34B-72B weights). Betas, weight decay and clipping are the paper's in all three")
        StageRecipe recipe;
        @Option(names = "--steps", paramLabel = "N", description = "optimizer steps")
        Integer steps;
        @Option(names = "--warmup", paramLabel = "N", description = "linear warmup steps (default steps / 10)")
        Integer warmup;
        @Option(names = "--lr", paramLabel = "PEAK", description = "peak learning rate (keeps the recipe's min/peak ratio unless"
                + " --min-lr)")
        Double lr;
        @Option(names = "--min-lr", paramLabel = "MIN", description = "learning rate at the end of the cosine")
        Double minLr;
        @Option(names = "--beta1", paramLabel = "B1", description = "AdamW beta1 (paper: 0.9)")
        Double beta1;
        @Option(names = "--beta2", paramLabel = "B2", description = "AdamW beta2 (paper: 0.95 stage 1, 0.98 for H and in stage 2)")
        Double beta2;
        @Option(names = "--eps", paramLabel = "E", description = "AdamW epsilon (paper: 1e-8)")
        Double eps;
        @Option(names = "--weight-decay", paramLabel = "W", description = "AdamW weight decay of matrices (paper: 0.1 for D, 0.05"
                + " for X and H)")
        Double weightDecay;
        @Option(names = "--clip", paramLabel = "C", description = "maximum global gradient norm, 0 for none (paper: 10 for D, 1 for"
                + " X and H)")
        Double clip;
        @Option(names = "--batch", paramLabel = "B", description = "rows per micro-batch (demo: 8)")
        Integer batch;
        @Option(names = "--accumulation", paramLabel = "K", description = "micro-batches per optimizer step (demo: 1)")
        Integer accumulation;
        @Option(names = "--seed", paramLabel = "S", description = "data order (and, for --arch, the new weights) (default"
                + " ${DEFAULT-VALUE})")
        long seed = 1;

        /** --stage, checked: 1 or 2, and --text-ratio ({@code textRatio}) only for 2. */
        Stage stage(Double textRatio) {
            if (stage == null || stage == Stage.TEXT_PRETRAINING) {
                throw new UsageException(stage == null ? "--stage 1|2 is required (see ./nvlm train --help)"
                        : "--stage 0 (the backbones) is ./nvlm pretrain-backbones");
            }
            if (stage == Stage.PRETRAINING && textRatio != null) {
                throw new UsageException("--text-ratio applies to stage 2 (stage 1 has no text-only data)");
            }
            return stage;
        }

        /** The recipe's settings of {@code s} for {@code arch}, changed by these options and {@code textRatio}. */
        StageConfig config(Architecture arch, Stage s, Double textRatio) {
            try {
                return new StageOverrides(steps, warmup, lr, minLr, beta1, beta2, eps, weightDecay, clip, batch, accumulation,
                        textRatio, seed).applyTo(recipe.stage(arch, s, seed));
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
        }
    }

    @ArgGroup(validate = false, heading = "%nModel (where the weights start):%n")
    ModelOptions start = new ModelOptions();
    @ArgGroup(validate = false, heading = "%nData (default: the embedded synthetic world):%n")
    DataOptions data = new DataOptions();
    @ArgGroup(validate = false, heading = "%nStage settings (defaults: --recipe demo):%n")
    StageOptions stage = new StageOptions();

    @Option(names = "--out", paramLabel = "RUN", description = "run folder: stage.json, data.json, metrics.jsonl (one JSON object"
            + " per step), checkpoints/step-N/ (resumable), model/ (the final model folder)")
    Path out;
    @Option(names = "--resume", paramLabel = "RUN", description = "continue RUN from its newest checkpoint, bit-identically")
    Path resume;
    @Option(names = "--resume-anyway", description = "with --resume: continue even though the data, thread count or device differ"
            + " from the run's start (recorded in run.json; the bits will differ from an uninterrupted run)")
    boolean resumeAnyway;
    @Option(names = "--eval-every", paramLabel = "N", converter = OptionTypes.NonNegative.class, description = "evaluate on the"
            + " world's validation split every N steps and at the end (default ${DEFAULT-VALUE}: never); accuracy goes to"
            + " metrics.jsonl")
    int evalEvery = 0;
    @Option(names = "--eval-samples", paramLabel = "N", converter = OptionTypes.NonNegative.class,
            description = "validation examples per family for --eval-every (default ${DEFAULT-VALUE})")
    int evalSamples = 50;
    @Option(names = "--checkpoint-every", paramLabel = "N", converter = OptionTypes.NonNegative.class, description = "steps"
            + " between checkpoints (default ${DEFAULT-VALUE}); one is also written at the end and on Ctrl-C")
    int checkpointEvery = 50;
    @Option(names = "--keep", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "newest checkpoints kept (default ${DEFAULT-VALUE})")
    int keep = 2;
    @Option(names = "--nproc", paramLabel = "N", converter = OptionTypes.AtLeastOne.class, description = "data-parallel"
            + " ranks (default 1): starts N processes through Open MPI's mpirun on this machine, each taking --accumulation / N"
            + " micro-batches of every step (same global batch, same losses up to the order of sums); under an existing"
            + " mpirun or srun allocation the ranks join it instead. Only rank 0 prints and writes the run folder")
    Integer nproc;
    @Option(names = "--tp", paramLabel = "T", converter = OptionTypes.AtLeastOne.class, description = "tensor-parallel"
            + " ranks (default 1): each group of T ranks splits the decoder Megatron-style (attention heads, MLP features,"
            + " vocabulary) and the --nproc / T groups are data-parallel; T must divide --nproc and the decoder's heads, kv"
            + " heads, MLP features and vocabulary. Same run up to the order of sums; checkpoints hold the whole model")
    Integer tp;
    @Option(names = "--zero", description = "with --nproc: ZeRO stage 1, each rank keeps the AdamW moments of its share of the"
            + " parameters only and sends the updated parameters to the others (same results; checkpoints hold the whole state)")
    boolean zero;
    @Option(names = "--bucket-mb", paramLabel = "MB", description = "data parallel: gradients are summed across ranks in"
            + " buckets of about MB MiB each (default ${DEFAULT-VALUE}, PyTorch DDP's bucket_cap_mb); smaller buckets start"
            + " earlier in the backward pass, bigger ones pay fewer collective latencies")
    double bucketMb = DataParallel.DEFAULT_BUCKET_BYTES / (double) (1 << 20);
    @Option(names = "--no-overlap", description = "data parallel: sum the gradient buckets after the backward pass instead"
            + " of starting each one during it as soon as its gradients are final (same sums; for comparison)")
    boolean noOverlap;
    @Mixin
    DeviceOption device;
    @Mixin
    ProgressOption progress;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Optional<World> launched = World.fromEnvironment();
        if (zero && (nproc == null || nproc < 2) && launched.isEmpty()) {
            throw new UsageException("--zero shards the optimizer across data-parallel ranks: it needs --nproc 2 or more");
        }
        int tensorParallel = tp == null ? 1 : tp;
        if (!(bucketMb > 0) || Double.isInfinite(bucketMb) || bucketBytes() < 4) {
            throw new UsageException("--bucket-mb must be a positive number of MiB holding at least one F32 gradient"
                    + " (4 bytes), got " + bucketMb);
        }
        if (launched.isEmpty() && tensorParallel > (nproc == null ? 1 : nproc)) {
            throw new UsageException("--tp " + tensorParallel + " splits each model copy over " + tensorParallel + " ranks: it"
                    + " needs --nproc " + tensorParallel + " or a multiple of it");
        }
        if (nproc != null && nproc > 1 && launched.isEmpty()) {
            // What would stop every rank at once is refused before any rank starts.
            if (out == null && resume == null) {
                throw new UsageException("--out is required (see ./nvlm train --help)");
            }
            if (nproc % tensorParallel != 0) {
                throw new UsageException("--tp " + tensorParallel + " must divide --nproc " + nproc + " (TP x DP = ranks)");
            }
            int replicas = nproc / tensorParallel;
            if (resume == null && replicas > 1 && (stage.accumulation == null || stage.accumulation % replicas != 0)) {
                throw new UsageException("--nproc " + nproc + (tensorParallel > 1 ? " with --tp " + tensorParallel + " ("
                        + replicas + " data-parallel replicas)" : "") + " needs --accumulation K, a multiple of " + replicas
                        + " (each replica takes K / " + replicas + " micro-batches of every step; the global batch is --batch x K"
                        + " rows)");
            }
            // Not under a launcher: start the ranks, each running this same command line.
            List<String> args = new ArrayList<>(spec.commandLine().getParseResult().originalArgs());
            if (args.isEmpty() || !args.getFirst().equals("train")) {
                args.addFirst("train");
            }
            return MpiRun.run(nproc, Main.class.getName(), args);
        }
        Communicator comm = World.join(device.device);
        if (comm.size() == 1) {
            return train(comm);
        }
        if (nproc != null && nproc != comm.size()) {
            comm.abort("rank " + comm.rank() + ": --nproc " + nproc + " but the launcher started " + comm.size() + " ranks", 2);
        }
        if (comm.size() % tensorParallel != 0) {
            comm.abort("rank " + comm.rank() + ": --tp " + tensorParallel + " does not divide the " + comm.size()
                    + " ranks the launcher started", 2);
        }
        try {
            int status = train(comm);
            comm.barrier();
            return status;
        } catch (Throwable e) {
            // One rank failing must end them all: the others would wait in the next collective forever.
            comm.abort("nvlm train: rank " + comm.rank() + " of " + comm.size() + " failed: " + e
                    + (e.getCause() != null ? " (caused by " + e.getCause() + ")" : "") + "; ending every rank", 1);
            throw e;
        }
    }

    private long bucketBytes() {
        return (long) (bucketMb * (1 << 20));
    }

    private int train(Communicator comm) throws Exception {
        TrainerOptions options = TrainerOptions.defaults().withCheckpointEvery(checkpointEvery).withKeepCheckpoints(keep)
                .withProgress(progress.mode, System.err, 0).withDevice(device.device).withCommunicator(comm).withZero(zero)
                .withTensorParallel(tp == null ? 1 : tp).withGradientBuckets(bucketBytes(), !noOverlap);
        if (comm.size() > 1) {
            // Ctrl-C reaches mpirun, which ends every rank; a checkpoint on interrupt would need all of them.
            options = options.withInterruptHandling(false);
        }
        Trainer trainer;
        AutoCloseable toClose = null;
        if (resume != null) {
            for (OptionSpec option : spec.commandLine().getParseResult().matchedOptions()) {
                String name = option.longestName();
                if (option.group() != null && !name.equals("--batches") || name.equals("--out")) {
                    throw new UsageException(name + " cannot be given with --resume: the run continues with the settings saved"
                            + " in its folder");
                }
            }
            Path latest = TrainingCheckpoint.usable(resume, skipped -> { }).orElseThrow(() -> new UsageException(
                    "--resume " + resume + ": no checkpoint under " + resume.resolve(TrainingCheckpoint.DIR)));
            StageConfig saved = TrainingCheckpoint.readState(latest).config();
            BatchSource source;
            if (data.batches != null) {
                checkFingerprint(RunFingerprint.of(null, data.batches, device.device), TrainingCheckpoint.stepOf(latest), comm);
                source = BatchFiles.open(data.batches, saved.gradAccumulation());
            } else {
                if (!Files.exists(resume.resolve(DataSpec.FILE))) {
                    throw new UsageException("--resume " + resume + ": the run has no " + DataSpec.FILE + "; it was trained over"
                            + " batch files, so pass --batches DIR again");
                }
                DataSpec dataSpec = DataSpec.read(resume);
                LlavaDataset user = dataSpec.isWorld() ? null : dataSpec.openLlava();
                reportSkipped(user, resume, comm);
                checkFingerprint(RunFingerprint.of(dataSpec, user, null, device.device), TrainingCheckpoint.stepOf(latest), comm);
                NvlmConfig modelConfig = NvlmConfig.read(latest.resolve("model").resolve(Checkpoint.CONFIG));
                LoaderBatches batches = WorldStage.batches(dataSpec.source(saved, modelConfig, user), dataSpec.encoder(modelConfig),
                        saved);
                toClose = batches;
                source = batches;
                options = withEvaluation(options, dataSpec, modelConfig);
            }
            trainer = Trainer.resume(resume, source, options);
        } else {
            if (out == null) {
                throw new UsageException("--out is required (see ./nvlm train --help)");
            }
            if (resumeAnyway) {
                throw new UsageException("--resume-anyway applies to --resume RUN only");
            }
            Stage which = stage.stage(data.textRatio);
            if (data.batches != null) {
                if (start.model == null) {
                    throw new UsageException("--batches needs --model DIR (the model the batch files were made for)");
                }
                refuse("does not apply to batch files (--batches)", "--arch", "--from", "--llava", "--questions", "--text-ratio",
                        "--low-res", "--world-seed", "--skip-bad-records", "--max-bad-records", "--parse-special-tokens");
                Nvlm model = progress.loadModel(ModelFolder.open(start.model), device.device);
                StageConfig config = stage.config(model.config().architecture(), which, data.textRatio);
                trainer = Trainer.start(model, config, BatchFiles.open(data.batches, config.gradAccumulation()), out, options);
                if (comm.rank() == 0) {
                    RunFingerprint.of(null, data.batches, device.device).write(out);
                }
            } else {
                if (data.images != null && data.llava == null) {
                    throw new UsageException("--images needs --llava FILE");
                }
                if (data.allowOutsideImages && data.llava == null) {
                    throw new UsageException("--allow-outside-images needs --llava FILE");
                }
                if (data.parseSpecialTokens && data.llava == null) {
                    throw new UsageException("--parse-special-tokens needs --llava FILE (the world's text is the program's own)");
                }
                if (data.skipBadRecords && data.llava == null) {
                    throw new UsageException("--skip-bad-records needs --llava FILE (the world's records are never bad)");
                }
                if (!data.skipBadRecords && spec.commandLine().getParseResult().hasMatchedOption("--max-bad-records")) {
                    throw new UsageException("--max-bad-records applies with --skip-bad-records only");
                }
                // The data is checked, every record, before the model is built and the run folder made.
                LlavaDataset user = data.llava == null ? null : llavaSpec(0).openLlava();
                reportSkipped(user, out, comm);
                NewModel begin = startModel();
                Nvlm model = begin.model();
                StageConfig config = stage.config(model.config().architecture(), which, data.textRatio);
                long worldSeed = data.worldSeed != null ? data.worldSeed : begin.worldSeed();
                DataSpec dataSpec = (data.llava != null ? llavaSpec(worldSeed) : DataSpec.world(worldSeed, data.questions))
                        .withLowResolution(data.lowRes);
                LoaderBatches batches = WorldStage.batches(dataSpec.source(config, model.config(), user),
                        dataSpec.encoder(model.config()), config);
                toClose = batches;
                options = withEvaluation(options, dataSpec, model.config());
                trainer = Trainer.start(model, config, batches, out, options);
                if (comm.rank() == 0) {
                    dataSpec.write(out);
                    RunFingerprint.of(dataSpec, user, null, device.device).write(out);
                    writeSkipped(user, out);
                }
            }
        }
        try (AutoCloseable _ = toClose) { // stops the loader's prefetch thread
            TrainResult result = trainer.run();
            if (result.status() == TrainResult.Status.INTERRUPTED) {
                return 130;
            }
            if (comm.rank() != 0) {
                return 0;
            }
            System.out.println("model: " + result.modelDir());
            System.out.println("checkpoint: " + result.checkpoint());
            System.out.println("metrics: " + trainer.runDir().resolve(MetricsLog.FILE));
            return 0;
        }
    }

    /**
     * Refuses to resume a run whose data, thread count or device changed since it started (its
     * bits would silently differ), unless --resume-anyway, which is recorded in run.json (by rank 0
     * alone: every rank checks the same files).
     */
    private void checkFingerprint(RunFingerprint now, long step, Communicator comm) throws IOException {
        boolean writer = comm.rank() == 0;
        RunFingerprint saved = RunFingerprint.read(resume);
        if (saved == null) {
            if (writer) {
                now.write(resume); // a run made before fingerprints were kept: from now on
            }
            return;
        }
        List<String> differences = now.differences(saved);
        if (differences.isEmpty()) {
            return;
        }
        if (!resumeAnyway) {
            throw new UsageException("--resume " + resume + ": the run started with other data or settings ("
                    + String.join("; ", differences) + "); restore them, or pass --resume-anyway to continue (the result will"
                    + " not be bit-identical to an uninterrupted run)");
        }
        if (writer) {
            System.err.println("resuming anyway despite: " + String.join("; ", differences));
            now.resumedAnyway(saved, step, differences).write(resume);
        }
    }

    /** The LLaVA data of the command line, over the world of {@code worldSeed} for the text-only tasks. */
    private DataSpec llavaSpec(long worldSeed) {
        return new DataSpec(data.llava, data.images, worldSeed, data.questions, false, data.allowOutsideImages,
                data.skipBadRecords ? data.maxBadRecords : 0, data.parseSpecialTokens);
    }

    /** Says how many records of {@code user} were skipped as bad, naming the first few (rank 0). */
    private static void reportSkipped(LlavaDataset user, Path runDir, Communicator comm) {
        if (user == null || user.skipped().isEmpty() || comm.rank() != 0) {
            return;
        }
        List<LlavaDataset.Skipped> skipped = user.skipped();
        System.err.printf("skipped %d bad record%s of %s (--skip-bad-records), training on the other %d; all are listed in %s:%n",
                skipped.size(), skipped.size() == 1 ? "" : "s", user.file(), user.size(), runDir.resolve(SKIPPED_FILE));
        for (LlavaDataset.Skipped s : skipped.subList(0, Math.min(SKIPPED_SHOWN, skipped.size()))) {
            System.err.println("  " + s.message());
        }
        if (skipped.size() > SKIPPED_SHOWN) {
            System.err.println("  ... and " + (skipped.size() - SKIPPED_SHOWN) + " more");
        }
    }

    /** Every skipped record of {@code user}, one line each, in {@code runDir}'s {@value #SKIPPED_FILE}. */
    private static void writeSkipped(LlavaDataset user, Path runDir) throws IOException {
        if (user == null || user.skipped().isEmpty()) {
            return;
        }
        StringBuilder lines = new StringBuilder();
        for (LlavaDataset.Skipped s : user.skipped()) {
            lines.append(s.message().replace('\n', ' ')).append('\n');
        }
        DurableFiles.writeString(runDir.resolve(SKIPPED_FILE), lines.toString());
    }

    /** A model folder as it is (--from, --model), or a new model of --arch from the backbones. */
    private NewModel startModel() throws IOException {
        if (start.from != null || start.model != null) {
            if (start.from != null && start.model != null) {
                throw new UsageException("give --from or --model, not both");
            }
            refuse("does not apply when starting from a model folder (--from)", "--preset", "--backbones", "--vision-from",
                    "--llm-from", "--no-backbones", "--tagged-memory", "--tags-in-sequence");
            Path dir = start.from != null ? start.from : start.model;
            Nvlm model = progress.loadModel(ModelFolder.open(dir), device.device);
            if (start.arch != null && start.arch != model.config().architecture()) {
                throw new UsageException("--arch " + start.arch.name().toLowerCase(Locale.ROOT) + " but " + dir
                        + " holds an NVLM-" + model.config().architecture() + " model");
            }
            return new NewModel(model, Demo.worldSeed(dir));
        }
        if (start.arch == null) {
            throw new UsageException("give --arch d|x|h (a new model from the backbones), --from DIR or --resume RUN"
                    + " (see ./nvlm train --help)");
        }
        NvlmConfig config;
        try {
            config = Presets.get(start.preset, start.arch);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--preset: " + e.getMessage());
        }
        if (start.taggedMemory) {
            if (start.arch == Architecture.D) {
                throw new UsageException("--tagged-memory applies to --arch x and h (NVLM-D has no cross-attention memory)");
            }
            config = config.withTaggedMemory(true);
        }
        if (start.tagsInSequence) {
            if (start.arch != Architecture.H) {
                throw new UsageException("--tags-in-sequence applies to --arch h (NVLM-" + start.arch
                        + "'s decoder sequence holds every tile's tag already)");
            }
            config = config.withTagsInSequence(true);
        }
        if (start.noBackbones) {
            refuse("contradicts --no-backbones", "--backbones", "--vision-from", "--llm-from");
            return NewModel.random(config, stage.seed, device.device);
        }
        Path backbones = start.backbones;
        if (backbones == null && (start.visionFrom == null || start.llmFrom == null)) {
            if (!start.preset.equals("tiny") || !Backbones.shipped()) {
                throw new UsageException("no backbones for preset " + start.preset + ": give --backbones DIR, --vision-from and"
                        + " --llm-from, or --no-backbones");
            }
            backbones = Backbones.extractShipped(Files.createTempDirectory("nvlm-backbones"));
        }
        return NewModel.fromBackbones(config, stage.seed, backbones, start.visionFrom, start.llmFrom, device.device);
    }

    /** Fails if any of {@code options} was given: "--option {@code reason}". */
    private void refuse(String reason, String... options) {
        for (String option : options) {
            if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                throw new UsageException(option + " " + reason);
            }
        }
    }

    private TrainerOptions withEvaluation(TrainerOptions options, DataSpec dataSpec, NvlmConfig model) {
        return evalEvery == 0 || !dataSpec.isWorld() ? options
                : options.withEvaluator(WorldStage.validation(dataSpec, model, evalSamples), evalEvery);
    }
}
