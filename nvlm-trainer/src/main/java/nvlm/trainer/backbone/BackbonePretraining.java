package nvlm.trainer.backbone;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.kernels.DType;
import nvlm.kernels.Parallel;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.model.tiling.TagMode;
import nvlm.model.tokenizer.ProjectTokenizer;
import nvlm.tensor.Device;
import nvlm.tensor.Tensor;
import nvlm.tensor.io.Json;
import nvlm.trainer.data.DataLoader;
import nvlm.trainer.data.Example;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.View;
import nvlm.trainer.data.WorldConfig;
import nvlm.trainer.data.WorldDataset;
import nvlm.trainer.eval.EvalResult;
import nvlm.trainer.eval.Evaluation;
import nvlm.trainer.train.Evaluator;
import nvlm.trainer.train.LoaderBatches;
import nvlm.trainer.train.ProgressBar;
import nvlm.trainer.train.TrainResult;
import nvlm.trainer.train.Trainer;
import nvlm.trainer.train.TrainerOptions;
import nvlm.trainer.recipe.BackboneRecipe;

/**
 * Stage 0 end to end ({@code ./nvlm pretrain-backbones}): the vision encoder
 * ({@link VisionPretraining}), then the decoder on the world's text ({@link Trainer} with
 * {@link nvlm.trainer.recipe.Stage#TEXT_PRETRAINING}), then both put into one NVLM-D model folder
 * with a manifest that records the recipe, its hash, the weights' hash and what the backbones
 * measure on the test split:
 * <pre>
 * &lt;out&gt;/config.json, model.safetensors (BF16)   the backbones (the projector is untrained)
 * &lt;out&gt;/backbones.json                          the manifest
 * &lt;out&gt;/vision/metrics.jsonl                    vision training
 * &lt;out&gt;/text/                                   decoder run folder (stage.json, metrics.jsonl, checkpoints/)
 * </pre>
 * Everything is a pure function of the recipe (and of {@link Parallel#threads()}, which
 * decides how work is split; the manifest records it).
 */
public final class BackbonePretraining {
    /** Weights are stored in BF16: half the size in the repository, and the stages start from the same rounded weights. */
    public static final DType STORAGE = DType.BF16;
    /** Rows per length-bucketing pool of the decoder's data loader. */
    static final int POOL_BATCHES = 16;

    /** Decoder steps between the small evaluations that show how stage 0 is going (they do not change training). */
    static final int TEXT_EVAL_EVERY = 1000;
    /** Test examples per family of those evaluations. */
    static final int TEXT_EVAL_SAMPLES = 50;

    private BackbonePretraining() {
    }

    /** Exact match on the described view of the test split, printed as a table to {@code progress}. */
    private static Evaluator progressEvaluator(SyntheticWorld world, NvlmConfig config, SampleEncoder encoder, PrintStream progress) {
        Map<String, List<Example>> examples = Evaluation.worldExamples(world, Split.TEST, TEXT_EVAL_SAMPLES, TEXT_EVAL_SAMPLES, View.DESCRIBED,
                TagMode.parse(config.tiling().tagMode()));
        return model -> {
            EvalResult result = Evaluation.run(model, encoder, examples, Evaluation.MAX_NEW_TOKENS, null);
            progress.print("  decoder on the described view (" + TEXT_EVAL_SAMPLES + " test examples per family):\n" + result.table());
            return result.accuracies();
        };
    }

    /** The world every stage of a run uses: the preset's tile geometry, seeded like the backbones. */
    public static WorldConfig world(NvlmConfig config, long seed) {
        return WorldConfig.forModel(config, seed);
    }

    /** Trains both backbones by {@code recipe} into {@code out}; returns the manifest written. */
    public static Map<String, Object> run(BackboneRecipe recipe, Path out, PrintStream progress, ProgressBar.Mode mode)
            throws IOException {
        Files.createDirectories(out);
        NvlmConfig config = Presets.get(recipe.preset(), Architecture.D);
        SyntheticWorld world = new SyntheticWorld(world(config, recipe.seed()));

        long t0 = System.nanoTime();
        CellClassifier vision = VisionPretraining.run(recipe, config.vision(), world, out.resolve("vision"), progress, mode);
        double visionSeconds = (System.nanoTime() - t0) / 1e9;

        long t1 = System.nanoTime();
        Nvlm model = Nvlm.create(config, new SplittableRandom(recipe.seed()));
        SampleEncoder encoder = SampleEncoder.forConfig(config, ProjectTokenizer.instance(), SampleEncoder.Options.defaults());
        WorldDataset data = new WorldDataset(world, Split.TRAIN, recipe.textBlend(), recipe.textSteps() * recipe.textBatch(),
                TagMode.parse(config.tiling().tagMode()), BackboneRecipe.TEXT_QUESTIONS);
        DataLoader loader = new DataLoader(data, encoder, recipe.textBatch(), POOL_BATCHES, recipe.seed());
        Path textRun = out.resolve("text");
        TrainResult text;
        try (LoaderBatches batches = new LoaderBatches(loader, 1)) {
            TrainerOptions options = TrainerOptions.defaults().withCheckpointEvery(500).withKeepCheckpoints(1)
                    .withProgress(mode, progress, 0).withInterruptHandling(false)
                    .withEvaluator(progressEvaluator(world, config, encoder, progress), TEXT_EVAL_EVERY);
            Trainer trainer = Files.exists(textRun.resolve("checkpoints"))
                    ? Trainer.resume(textRun, batches, options) : Trainer.start(model, recipe.textStage(), batches, textRun, options);
            text = trainer.run();
            model = trainer.model();
        }
        if (text.status() != TrainResult.Status.COMPLETED) {
            throw new IllegalStateException("stage 0 decoder training stopped at step " + text.step() + "; run again to resume it");
        }
        double textSeconds = (System.nanoTime() - t1) / 1e9;

        // The backbones: the decoder's model with the trained vision encoder in place.
        Map<String, Tensor> state = new LinkedHashMap<>(model.stateDict());
        vision.visionModel().stateDict().forEach((name, t) -> state.put("vision_model." + name, t));
        model.loadStateDict(state, true);
        Checkpoint.save(model, out, STORAGE, Long.MAX_VALUE);

        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("format", 1L);
        manifest.put("made_by", "./nvlm pretrain-backbones --seed " + recipe.seed());
        manifest.put("preset", recipe.preset());
        manifest.put("seed", recipe.seed());
        manifest.put("world_seed", recipe.seed());
        manifest.put("recipe", recipe.toJson());
        manifest.put("recipe_hash", recipe.hash());
        manifest.put("dtype", STORAGE.name().toLowerCase(java.util.Locale.ROOT));
        manifest.put("weights_sha256", Backbones.sha256(out.resolve(Backbones.WEIGHTS)));
        manifest.put("threads", (long) Parallel.threads());
        manifest.put("seconds", Map.of("vision", visionSeconds, "text", textSeconds));
        if (recipe.evalSamples() > 0) {
            progress.println("stage 0: measuring the backbones on the test split...");
            CellAccuracy cells = VisionPretraining.evaluate(vision, world, Split.TEST, recipe.evalSamples());
            progress.println("  vision encoder: " + cells);
            manifest.put("vision_cell_accuracy", cells.toJson());
            // The decoder as saved (BF16), on the described view (pictures in words): what it knows of the world's tasks.
            Nvlm saved = Checkpoint.load(out, Device.CPU);
            EvalResult decoder = Evaluation.run(saved, encoder, Evaluation.worldExamples(world, Split.TEST, recipe.evalSamples(),
                    recipe.evalSamples(), View.DESCRIBED, TagMode.parse(config.tiling().tagMode())), Evaluation.MAX_NEW_TOKENS, mode, progress);
            progress.print("  decoder on the described view:\n" + decoder.table());
            manifest.put("decoder_accuracy_described_view", new LinkedHashMap<>(decoder.accuracies()));
            // The same decoder handed each picture as rows of cell symbols: how well it reads a picture written out.
            EvalResult rows = Evaluation.run(saved, encoder, Evaluation.worldExamples(world, Split.TEST, recipe.evalSamples(), 0,
                    View.ROWS, TagMode.parse(config.tiling().tagMode())), Evaluation.MAX_NEW_TOKENS, mode, progress);
            progress.print("  decoder on the rows view:\n" + rows.table());
            manifest.put("decoder_accuracy_rows_view", new LinkedHashMap<>(rows.accuracies()));
        }
        Path tmp = out.resolve(Backbones.MANIFEST + ".tmp");
        Files.writeString(tmp, Json.writePretty(manifest) + "\n");
        Files.move(tmp, out.resolve(Backbones.MANIFEST), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return manifest;
    }
}
