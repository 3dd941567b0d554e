package nvlm.trainer.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import nvlm.model.Architecture;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.tensor.Device;
import nvlm.trainer.backbone.Backbones;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.View;
import nvlm.trainer.data.WorldConfig;
import nvlm.trainer.eval.Evaluation;
import nvlm.trainer.pipeline.DataSpec;
import nvlm.trainer.pipeline.DemoRecipe;
import nvlm.trainer.pipeline.WorldStage;
import nvlm.trainer.train.BatchFiles;
import nvlm.trainer.train.BatchSource;
import nvlm.trainer.train.Evaluator;
import nvlm.trainer.train.LoaderBatches;
import nvlm.trainer.train.MetricsLog;
import nvlm.trainer.train.Recipe;
import nvlm.trainer.train.Stage;
import nvlm.trainer.train.StageConfig;
import nvlm.trainer.train.TrainResult;
import nvlm.trainer.train.Trainer;
import nvlm.trainer.train.TrainerOptions;
import nvlm.trainer.train.TrainingCheckpoint;
import nvlm.trainer.train.TrainingDivergedException;

/**
 * {@code ./nvlm train}: one training stage (docs/model.md §11) on the synthetic world (default), on
 * LLaVA-format data, or over docs/model.md §10 batch files; a shell around {@link Trainer}.
 */
public final class TrainCommand implements Command {
    static final String USAGE = """
            usage: ./nvlm train --arch d|x|h --stage 1|2 --out RUN [model] [data] [stage settings] [run options]
                   ./nvlm train --from DIR --stage 2 --out RUN ...           (continue from a model folder, e.g. stage 1's)
                   ./nvlm train --model DIR --stage 1|2 --batches DIR --out RUN ...   (docs/model.md §10 batch files)
                   ./nvlm train --resume RUN [run options]

            Trains one stage of the NVLM recipe (docs/model.md §11). The vision encoder is frozen in both stages.
            Stage 1 freezes the LLM and trains the projector (NVLM-D), the cross-attention blocks and the 1-layer
            projector (NVLM-X), or both (NVLM-H); stage 2 (SFT) also trains the LLM, with text-only tasks mixed in.
            AdamW (no weight decay on biases, norms, gates), cosine learning rate with linear warmup, global-norm
            gradient clipping, gradient accumulation weighted by labelled tokens, length-bucketed batches, loss on
            the answers only. Same inputs and seed, same bits.

            Model (where the weights start):
              --arch d|x|h           NVLM-D, NVLM-X or NVLM-H: a new model of --preset, its vision encoder and LLM
                                     taken from the backbones, its projector (and cross-attention blocks) new
              --preset NAME          model shape for --arch (default tiny; see ./nvlm init --help)
              --backbones DIR        backbones folder (./nvlm pretrain-backbones); default: the ones shipped with
                                     this build (tiny preset only)
              --vision-from DIR      take the vision encoder from this model folder instead (a real checkpoint
                                     of the same shape); --llm-from DIR likewise for the LLM
              --llm-from DIR
              --no-backbones         start from random weights (for tests and ablations)
              --from DIR             start from this model folder as it is (e.g. RUN/model of stage 1 for stage 2)
              --model DIR            the same, for batch files (--batches)

            Data (default: the embedded synthetic world):
              --world-seed S         the world's seed (its train/test split); default: the backbones' (1 when
                                     shipped), or 1
              --questions N          questions per world picture (default 1): several answers share one picture
              --llava FILE           train on LLaVA-format conversations (JSON array or JSON Lines) instead
              --images DIR           the folder the LLaVA file's image paths are relative to (default: its folder)
              --text-ratio R         stage 2: fraction of text-only samples mixed in (default 0.2; the world's
                                     arithmetic and string tasks); stage 1 has none
              --low-res              one S x S tile per image (the paper's low-resolution baseline) instead of
                                     dynamic high resolution with tile tags
              --batches DIR          docs/model.md §10 batch files (./nvlm batch) instead, in file-name order, cycled:
                                     micro-batch k of the run is file k mod N (needs --model)

            Stage settings (defaults: --recipe demo):
              --recipe demo|toy|paper  demo: the rates and sizes ./nvlm demo uses at the tiny preset; toy: the
                                     paper's with learning rates raised for toy models; paper: the paper's own
                                     (tuned for 34B-72B weights). Betas, weight decay and clipping are the
                                     paper's in all three
              --steps N              optimizer steps
              --warmup N             linear warmup steps (default steps / 10)
              --lr PEAK              peak learning rate (keeps the recipe's min/peak ratio unless --min-lr)
              --min-lr MIN           learning rate at the end of the cosine
              --beta1 B1             AdamW beta1 (paper: 0.9)
              --beta2 B2             AdamW beta2 (paper: 0.95 stage 1, 0.98 for H and in stage 2)
              --eps E                AdamW epsilon (default 1e-8)
              --weight-decay W       AdamW weight decay of matrices (paper: 0.1 for D, 0.05 for X and H)
              --clip C               maximum global gradient norm, 0 for none (paper: 10 for D, 1 for X and H)
              --batch B              rows per micro-batch (default 8)
              --accumulation K       micro-batches per optimizer step (default 1)
              --seed S               data order (and, for --arch, the new weights) (default 1)

            Run options:
              --out RUN              run folder: stage.json, data.json, metrics.jsonl (one JSON object per step),
                                     checkpoints/step-N/ (resumable), model/ (the final model folder)
              --resume RUN           continue RUN from its newest checkpoint, bit-identically; the stage and data
                                     settings come from the run folder (for batch files pass --batches again)
              --eval-every N         evaluate on the world's validation split every N steps and at the end
                                     (default 0: never); accuracy goes to metrics.jsonl
              --eval-samples N       validation examples per family for --eval-every (default 50)
              --checkpoint-every N   steps between checkpoints (default 50); one is also written at the end and
                                     on Ctrl-C
              --keep N               newest checkpoints kept (default 2)
              --device cpu|cuda      where the model trains (default cpu)
              --progress M           auto | bar | lines | off (default auto: a bar on a terminal, lines otherwise)
              --help                 this text

            Ctrl-C finishes or abandons the current step, saves a checkpoint and exits (status 130). A NaN or
            infinite loss or gradient norm stops training with the step named and the last good checkpoint kept
            (status 1).
            """;

    private static final Set<String> VALUED = Set.of("arch", "preset", "backbones", "vision-from", "llm-from", "from", "model",
            "stage", "world-seed", "questions", "llava", "images", "text-ratio", "batches", "recipe", "steps", "warmup", "lr", "min-lr",
            "beta1", "beta2", "eps", "weight-decay", "clip", "batch", "accumulation", "seed", "out", "resume", "eval-every",
            "eval-samples", "checkpoint-every", "keep", "device", "progress");
    /** What a resumed run takes from its folder and may not be given again. */
    private static final List<String> FIXED_ON_RESUME = List.of("arch", "preset", "backbones", "vision-from", "llm-from", "from",
            "model", "stage", "world-seed", "questions", "llava", "images", "text-ratio", "recipe", "steps", "warmup", "lr", "min-lr",
            "beta1", "beta2", "eps", "weight-decay", "clip", "batch", "accumulation", "seed", "out", "low-res", "no-backbones");

    private final PrintStream out;

    public TrainCommand() {
        this(System.out);
    }

    TrainCommand(PrintStream out) {
        this.out = out;
    }

    @Override
    public String name() {
        return "train";
    }

    @Override
    public String summary() {
        return "train one stage (1: projector/cross-attention, 2: + LLM) on the world, LLaVA data or batch files; --resume";
    }

    @Override
    public int run(List<String> words) throws IOException {
        Args args = Args.parse(name(), words, VALUED, Set.of("help", "low-res", "no-backbones"));
        if (args.has("help")) {
            out.print(USAGE);
            return 0;
        }
        if (!args.positional().isEmpty()) {
            throw new UsageException("unexpected argument '" + args.positional().getFirst() + "' (see ./nvlm train --help)");
        }
        Device device;
        try {
            device = Device.parse(args.get("device", "cpu"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--device: " + e.getMessage());
        }
        int evalEvery = EvalCommand.nonNegative(args, "eval-every", 0);
        int evalSamples = EvalCommand.nonNegative(args, "eval-samples", 50);
        TrainerOptions options = TrainerOptions.defaults().withCheckpointEvery(EvalCommand.nonNegative(args, "checkpoint-every", 50))
                .withKeepCheckpoints(args.getInt("keep", 2)).withProgress(DemoCommand.progress(args), System.err, 0).withDevice(device);
        if (options.keepCheckpoints() < 1) {
            throw new UsageException("--keep must be >= 1");
        }

        Trainer trainer;
        AutoCloseable toClose = null;
        if (args.has("resume")) {
            for (String fixed : FIXED_ON_RESUME) {
                if (args.has(fixed)) {
                    throw new UsageException("--" + fixed + " cannot be given with --resume: the run continues with the"
                            + " settings saved in its folder");
                }
            }
            Path run = Path.of(args.get("resume", null));
            Path latest = TrainingCheckpoint.latest(run).orElseThrow(() -> new UsageException(
                    "--resume " + run + ": no checkpoint under " + run.resolve(TrainingCheckpoint.DIR)));
            StageConfig saved = TrainingCheckpoint.readState(latest).config();
            BatchSource source;
            NvlmConfig modelConfig = NvlmConfig.read(latest.resolve("model").resolve(Checkpoint.CONFIG));
            if (args.has("batches")) {
                source = BatchFiles.open(Path.of(args.get("batches", null)), saved.gradAccumulation());
            } else {
                if (!Files.exists(run.resolve(DataSpec.FILE))) {
                    throw new UsageException("--resume " + run + ": the run has no " + DataSpec.FILE + "; it was trained over batch"
                            + " files, so pass --batches DIR again");
                }
                DataSpec data = DataSpec.read(run);
                LoaderBatches batches = WorldStage.batches(data.source(saved, modelConfig), data.encoder(modelConfig), saved);
                toClose = batches;
                source = batches;
                options = withEvaluation(options, evalEvery, evalSamples, data, modelConfig);
            }
            trainer = Trainer.resume(run, source, options);
        } else {
            Path runDir = Path.of(args.require("out"));
            Stage stage = stage(args);
            if (args.has("batches")) {
                if (!args.has("model")) {
                    throw new UsageException("--batches needs --model DIR (the model the batch files were made for)");
                }
                for (String flag : List.of("arch", "from", "llava", "questions", "text-ratio", "low-res", "world-seed")) {
                    if (args.has(flag)) {
                        throw new UsageException("--" + flag + " does not apply to batch files (--batches)");
                    }
                }
                Nvlm model = Checkpoint.load(Path.of(args.require("model")), device);
                StageConfig config = stageConfig(args, model.config().architecture(), stage);
                trainer = Trainer.start(model, config, BatchFiles.open(Path.of(args.require("batches")), config.gradAccumulation()),
                        runDir, options);
            } else {
                Start start = startModel(args, device);
                Nvlm model = start.model();
                StageConfig config = stageConfig(args, model.config().architecture(), stage);
                long worldSeed = args.getLong("world-seed", start.worldSeed());
                int questions = args.getInt("questions", 1);
                if (questions < 1) {
                    throw new UsageException("--questions must be >= 1, got " + questions);
                }
                DataSpec data = args.has("llava")
                        ? new DataSpec(Path.of(args.get("llava", null)), args.getPath("images", null), worldSeed, questions, false)
                        : DataSpec.world(worldSeed, questions);
                if (args.has("images") && !args.has("llava")) {
                    throw new UsageException("--images needs --llava FILE");
                }
                data = data.withLowResolution(args.has("low-res"));
                LoaderBatches batches = WorldStage.batches(data.source(config, model.config()), data.encoder(model.config()), config);
                toClose = batches;
                options = withEvaluation(options, evalEvery, evalSamples, data, model.config());
                trainer = Trainer.start(model, config, batches, runDir, options);
                data.write(runDir);
            }
        }
        try {
            TrainResult result = trainer.run();
            if (result.status() == TrainResult.Status.INTERRUPTED) {
                return 130;
            }
            out.println("model: " + result.modelDir());
            out.println("checkpoint: " + result.checkpoint());
            out.println("metrics: " + trainer.runDir().resolve(MetricsLog.FILE));
            return 0;
        } catch (TrainingDivergedException e) {
            System.err.println("nvlm train: " + e.getMessage());
            return 1;
        } finally {
            if (toClose != null) {
                try {
                    toClose.close();
                } catch (Exception ignored) {
                    // Closing only stops the prefetch thread.
                }
            }
        }
    }

    /** Where a new world/LLaVA run's weights start, and the world seed its backbones were made on. */
    record Start(Nvlm model, long worldSeed) {
    }

    static Start startModel(Args args, Device device) throws IOException {
        if (args.has("from") || args.has("model")) {
            if (args.has("from") && args.has("model")) {
                throw new UsageException("give --from or --model, not both");
            }
            for (String flag : List.of("preset", "backbones", "vision-from", "llm-from", "no-backbones")) {
                if (args.has(flag)) {
                    throw new UsageException("--" + flag + " does not apply when starting from a model folder (--from)");
                }
            }
            Path dir = Path.of(args.has("from") ? args.get("from", null) : args.get("model", null));
            Nvlm model = Checkpoint.load(dir, device);
            if (args.has("arch") && DemoCommand.architecture(args.get("arch", "")) != model.config().architecture()) {
                throw new UsageException("--arch " + args.get("arch", "") + " but " + dir + " holds an NVLM-"
                        + model.config().architecture() + " model");
            }
            return new Start(model, EvalCommand.worldSeed(dir));
        }
        if (!args.has("arch")) {
            throw new UsageException("give --arch d|x|h (a new model from the backbones), --from DIR or --resume RUN"
                    + " (see ./nvlm train --help)");
        }
        Architecture arch = DemoCommand.architecture(args.get("arch", ""));
        String preset = args.get("preset", "tiny");
        NvlmConfig config;
        try {
            config = Presets.get(preset, arch);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--preset: " + e.getMessage());
        }
        Nvlm model = Nvlm.create(config, new SplittableRandom(args.getLong("seed", 1)));
        long worldSeed = 1;
        if (!args.has("no-backbones")) {
            Path vision = args.getPath("vision-from", null);
            Path llm = args.getPath("llm-from", null);
            Path backbones = args.getPath("backbones", null);
            if (backbones == null && (vision == null || llm == null)) {
                if (!preset.equals("tiny") || !Backbones.shipped()) {
                    throw new UsageException("no backbones for preset " + preset + ": give --backbones DIR, --vision-from and"
                            + " --llm-from, or --no-backbones");
                }
                backbones = Backbones.extractShipped(Files.createTempDirectory("nvlm-backbones"));
            }
            if (backbones != null) {
                Map<String, Object> manifest = Backbones.manifest(backbones);
                if (manifest.get("world_seed") instanceof Long w) {
                    worldSeed = w;
                }
            }
            Backbones.load(model, vision != null ? vision : backbones, llm != null ? llm : backbones);
        } else if (args.has("backbones") || args.has("vision-from") || args.has("llm-from")) {
            throw new UsageException("--no-backbones contradicts --backbones / --vision-from / --llm-from");
        }
        model.to(device);
        return new Start(model, worldSeed);
    }

    static Stage stage(Args args) {
        try {
            Stage stage = Stage.of(args.getInt("stage", 0));
            if (stage == Stage.TEXT_PRETRAINING) {
                throw new UsageException("--stage 0 (the backbones) is ./nvlm pretrain-backbones");
            }
            return stage;
        } catch (IllegalArgumentException e) {
            throw new UsageException("--stage: " + e.getMessage());
        }
    }

    static StageConfig stageConfig(Args args, Architecture arch, Stage stage) {
        long seed = args.getLong("seed", 1);
        StageConfig config = switch (args.get("recipe", "demo")) {
            case "demo" -> stage == Stage.PRETRAINING ? DemoRecipe.of(arch, seed).stage1() : DemoRecipe.of(arch, seed).stage2();
            case "toy" -> Recipe.toy(arch, stage);
            case "paper" -> Recipe.paper(arch, stage);
            default -> throw new UsageException("--recipe must be demo, toy or paper, got '" + args.get("recipe", "") + "'");
        };
        if (stage == Stage.PRETRAINING && args.has("text-ratio")) {
            throw new UsageException("--text-ratio applies to stage 2 (stage 1 has no text-only data)");
        }
        try {
            int steps = args.getInt("steps", config.totalSteps());
            config = config.withSteps(steps, args.getInt("warmup", Math.max(1, steps / 10)));
            double peak = args.getDouble("lr", config.peakLr());
            double min = args.getDouble("min-lr", config.peakLr() > 0 ? peak * config.minLr() / config.peakLr() : 0);
            config = config.withLearningRates(peak, min)
                    .withBatch(args.getInt("batch", config.microBatchSize()), args.getInt("accumulation", config.gradAccumulation()))
                    .withClipNorm(args.getDouble("clip", config.clipNorm()))
                    .withWeightDecay(args.getDouble("weight-decay", config.weightDecay()))
                    .withTextOnlyRatio(args.getDouble("text-ratio", config.textOnlyRatio()))
                    .withSeed(seed);
            config = new StageConfig(config.stage(), config.peakLr(), config.minLr(), config.warmupSteps(), config.totalSteps(),
                    args.getDouble("beta1", config.beta1()), args.getDouble("beta2", config.beta2()), args.getDouble("eps", config.eps()),
                    config.weightDecay(), config.clipNorm(), config.microBatchSize(), config.gradAccumulation(), config.textOnlyRatio(),
                    config.seed());
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        return config;
    }

    private static TrainerOptions withEvaluation(TrainerOptions options, int every, int samples, DataSpec data, NvlmConfig model) {
        if (every == 0 || !data.isWorld()) {
            return options;
        }
        SyntheticWorld world = new SyntheticWorld(WorldConfig.forModel(model, data.worldSeed()));
        var encoder = data.encoder(model);
        var examples = Evaluation.worldExamples(world, Split.VALIDATION, samples, samples, View.IMAGE, encoder.tagMode());
        Evaluator evaluator = m -> Evaluation.run(m, encoder, examples, Evaluation.MAX_NEW_TOKENS, null).accuracies();
        return options.withEvaluator(evaluator, every);
    }

    static String lower(Architecture a) {
        return a.name().toLowerCase(Locale.ROOT);
    }
}
