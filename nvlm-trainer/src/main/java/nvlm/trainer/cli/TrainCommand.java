package nvlm.trainer.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.tensor.Device;
import nvlm.trainer.train.BatchFiles;
import nvlm.trainer.train.ProgressBar;
import nvlm.trainer.train.Recipe;
import nvlm.trainer.train.Stage;
import nvlm.trainer.train.StageConfig;
import nvlm.trainer.train.TrainResult;
import nvlm.trainer.train.Trainer;
import nvlm.trainer.train.TrainerOptions;
import nvlm.trainer.train.TrainingCheckpoint;
import nvlm.trainer.train.TrainingDivergedException;

/** {@code ./nvlm train}: one training stage (spec 11) over batch files; a thin shell around {@link Trainer}. */
public final class TrainCommand implements Command {
    private static final String USAGE = """
            usage: ./nvlm train --model DIR --stage 1|2 --batches DIR --out RUN [options]
                   ./nvlm train --resume RUN --batches DIR [--checkpoint-every N] [--progress M] [--device D]

            Trains one stage of the NVLM recipe (spec section 11). The vision encoder is frozen in both stages.
            Stage 1 freezes the LLM and trains the projector (NVLM-D), the cross-attention blocks and the
            1-layer projector (NVLM-X), or both (NVLM-H); stage 2 also trains the LLM. AdamW (no weight decay
            on biases, norms, gates), cosine learning rate with linear warmup, global-norm gradient clipping,
            gradient accumulation weighted by labelled tokens. Same inputs, same bits.

              --model DIR            model folder to start from (config.json + model.safetensors); its
                                     architecture (D, X or H) decides what stage 1 trains
              --stage 1|2            1: pretraining (LLM frozen); 2: supervised fine-tuning (LLM trained)
              --batches DIR          folder of batch files (spec 10 .safetensors), used in file-name order and
                                     cycled: micro-batch k of the run is file k mod N
              --out RUN              run folder: stage.json, metrics.jsonl (one JSON object per step),
                                     checkpoints/step-N/ (resumable), model/ (the final model folder)
              --resume RUN           continue RUN from its newest checkpoint, bit-identically (pass the same
                                     --batches); the stage settings come from the checkpoint
              --recipe toy|paper     learning rates raised for toy models (default) or the paper's own, which
                                     are tuned for 34B-72B weights; betas, weight decay and clipping are the
                                     paper's in both
              --steps N              optimizer steps (default 200 for stage 1, 300 for stage 2)
              --warmup N             linear warmup steps (default steps / 10)
              --lr PEAK              peak learning rate (keeps the recipe's min/peak ratio unless --min-lr)
              --min-lr MIN           learning rate at the end of the cosine
              --accumulation K       micro-batches (batch files) per optimizer step (default 1)
              --clip C               maximum global gradient norm, 0 for none (default: 10 for D, 1 for X and H)
              --weight-decay W       AdamW weight decay of matrices (default: 0.1 for D, 0.05 for X and H)
              --checkpoint-every N   steps between checkpoints (default 50); one is also written at the end
                                     and on Ctrl-C
              --keep N               newest checkpoints kept (default 2)
              --device cpu|cuda      where the model trains (default cpu)
              --progress M           auto | bar | lines | off (default auto: a bar on a terminal, lines otherwise)
              --help                 this text

            Ctrl-C finishes or abandons the current step, saves a checkpoint and exits (status 130). A NaN or
            infinite loss or gradient norm stops training with the step named and the last good checkpoint kept
            (status 1).
            """;

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
        return "train one stage (1: projector/cross-attention, 2: + LLM) over batch files; --resume continues a run";
    }

    @Override
    public int run(List<String> words) throws IOException {
        Args args = Args.parse(name(), words, Set.of("model", "stage", "batches", "out", "resume", "recipe", "steps", "warmup", "lr",
                "min-lr", "accumulation", "clip", "weight-decay", "checkpoint-every", "keep", "device", "progress"), Set.of("help"));
        if (args.has("help")) {
            out.print(USAGE);
            return 0;
        }
        if (!args.positional().isEmpty()) {
            throw new UsageException("unexpected argument '" + args.positional().getFirst() + "' (see ./nvlm train --help)");
        }
        ProgressBar.Mode progress = switch (args.get("progress", "auto").toLowerCase(Locale.ROOT)) {
            case "auto" -> ProgressBar.Mode.auto();
            case "bar" -> ProgressBar.Mode.BAR;
            case "lines" -> ProgressBar.Mode.LINES;
            case "off" -> ProgressBar.Mode.OFF;
            default -> throw new UsageException("--progress must be auto, bar, lines or off, got '" + args.get("progress", "") + "'");
        };
        Device device;
        try {
            device = Device.parse(args.get("device", "cpu"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--device: " + e.getMessage());
        }
        TrainerOptions options = TrainerOptions.defaults().withCheckpointEvery(args.getInt("checkpoint-every", 50))
                .withKeepCheckpoints(args.getInt("keep", 2)).withProgress(progress, System.err, 0).withDevice(device);
        Path batches = Path.of(args.require("batches"));

        Trainer trainer;
        if (args.has("resume")) {
            for (String stageFlag : List.of("model", "stage", "out", "recipe", "steps", "warmup", "lr", "min-lr", "accumulation", "clip",
                    "weight-decay")) {
                if (args.has(stageFlag)) {
                    throw new UsageException("--" + stageFlag + " cannot be changed on --resume: the run continues with the"
                            + " settings saved in its checkpoint");
                }
            }
            Path run = Path.of(args.get("resume", null));
            Path latest = TrainingCheckpoint.latest(run).orElseThrow(() -> new UsageException(
                    "--resume " + run + ": no checkpoint under " + run.resolve(TrainingCheckpoint.DIR)));
            StageConfig saved = TrainingCheckpoint.readState(latest).config();
            trainer = Trainer.resume(run, BatchFiles.open(batches, saved.gradAccumulation()), options);
        } else {
            Nvlm model = Checkpoint.load(Path.of(args.require("model")), device);
            Stage stage;
            try {
                stage = Stage.of(args.getInt("stage", 0));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--stage: " + e.getMessage());
            }
            StageConfig config = stageConfig(args, model, stage);
            trainer = Trainer.start(model, config, BatchFiles.open(batches, config.gradAccumulation()), Path.of(args.require("out")),
                    options);
        }
        try {
            TrainResult result = trainer.run();
            if (result.status() == TrainResult.Status.INTERRUPTED) {
                return 130;
            }
            out.println("model: " + result.modelDir());
            out.println("checkpoint: " + result.checkpoint());
            out.println("metrics: " + trainer.runDir().resolve(nvlm.trainer.train.MetricsLog.FILE));
            return 0;
        } catch (TrainingDivergedException e) {
            System.err.println("nvlm train: " + e.getMessage());
            return 1;
        }
    }

    private static StageConfig stageConfig(Args args, Nvlm model, Stage stage) {
        StageConfig config = switch (args.get("recipe", "toy")) {
            case "toy" -> Recipe.toy(model.config().architecture(), stage);
            case "paper" -> Recipe.paper(model.config().architecture(), stage);
            default -> throw new UsageException("--recipe must be toy or paper, got '" + args.get("recipe", "") + "'");
        };
        try {
            int steps = args.getInt("steps", config.totalSteps());
            config = config.withSteps(steps, args.getInt("warmup", Math.max(1, steps / 10)));
            double peak = args.getDouble("lr", config.peakLr());
            double min = args.getDouble("min-lr", peak * config.minLr() / config.peakLr());
            config = config.withLearningRates(peak, min)
                    .withBatch(config.microBatchSize(), args.getInt("accumulation", config.gradAccumulation()))
                    .withClipNorm(args.getDouble("clip", config.clipNorm()))
                    .withWeightDecay(args.getDouble("weight-decay", config.weightDecay()));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        return config;
    }
}
