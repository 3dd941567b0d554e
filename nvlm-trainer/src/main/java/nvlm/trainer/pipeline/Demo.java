package nvlm.trainer.pipeline;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.model.Nvlm;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.model.tiling.TagMode;
import nvlm.tensor.Device;
import nvlm.tensor.io.AtomicFolder;
import nvlm.tensor.io.DurableFiles;
import nvlm.tensor.io.Json;
import nvlm.tensor.io.JsonFile;
import nvlm.trainer.backbone.Backbones;
import nvlm.trainer.data.Example;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.View;
import nvlm.trainer.data.WorldConfig;
import nvlm.trainer.eval.EvalResult;
import nvlm.trainer.eval.Evaluation;
import nvlm.trainer.report.TrainingReport;
import nvlm.trainer.train.LoaderBatches;
import nvlm.trainer.train.ProgressBar;
import nvlm.trainer.recipe.StageConfig;
import nvlm.trainer.train.TrainResult;
import nvlm.trainer.train.Trainer;
import nvlm.trainer.train.TrainerOptions;
import nvlm.trainer.recipe.DemoRecipe;

/**
 * The main job ({@code ./nvlm demo}): the whole pipeline at the tiny preset on
 * the embedded world.
 * <ol>
 *   <li>stage 0: the backbones (vision encoder and LLM), shipped with the build
 *       ({@link Backbones#extractShipped}) or from a folder;</li>
 *   <li>the backbone's text-only accuracy (the baseline of the paper's Table 8);</li>
 *   <li>stage 1 (LLM frozen) and stage 2 (SFT with text-only data mixed in), {@link DemoRecipe};</li>
 *   <li>evaluation on the test split ({@link Evaluation}), {@code eval.json}, the report.</li>
 * </ol>
 * <pre>
 * &lt;out&gt;/backbones/        the backbones used (config.json, model.safetensors, backbones.json)
 * &lt;out&gt;/stage1/, stage2/  run folders (stage.json, metrics.jsonl, checkpoints/, model/)
 * &lt;out&gt;/model/            the final model folder (a copy of stage2/model plus world.json)
 * &lt;out&gt;/eval.json         family -&gt; accuracy, as {@code ./nvlm eval --json} prints it
 * &lt;out&gt;/demo.json         settings, timings, evaluation and the backbone's text accuracy
 * &lt;out&gt;/report.html       the report (loss.png, lr.png, accuracy.png beside it)
 * </pre>
 */
public final class Demo {
    public static final String EVAL_JSON = "eval.json";
    public static final String DEMO_JSON = "demo.json";
    public static final String MODEL_DIR = "model";
    /** Written into the final model folder: which world (seed) it was trained and is evaluated on. */
    public static final String WORLD_JSON = "world.json";

    /** The world seed a model folder was trained on ({@value #WORLD_JSON}), else 1 (the shipped backbones'). */
    public static long worldSeed(Path modelDir) throws IOException {
        Path file = modelDir.resolve(WORLD_JSON);
        if (!Files.exists(file)) {
            return 1;
        }
        if (JsonFile.readObject(file).get("world_seed") instanceof Long seed) {
            return seed;
        }
        throw new IllegalArgumentException(file + ": field 'world_seed' must be an integer (the seed of the world the model"
                + " was trained on)");
    }

    private Demo() {
    }

    /**
     * @param backbones folder of the backbones, or null for the shipped ones
     * @param log       where the tables and messages go (progress goes there too)
     */
    public record Settings(Architecture arch, String preset, long seed, Path out, Path backbones, DemoRecipe recipe,
                           ProgressBar.Mode progress, PrintStream log, Device device) {
        /** On the CPU. */
        public Settings(Architecture arch, String preset, long seed, Path out, Path backbones, DemoRecipe recipe,
                        ProgressBar.Mode progress, PrintStream log) {
            this(arch, preset, seed, out, backbones, recipe, progress, log, Device.CPU);
        }
    }

    /** What the demo produced. */
    public record Result(EvalResult evaluation, EvalResult backboneText, Path model, Path report, Path evalJson,
                         Map<String, Double> seconds) {
    }

    public static Result run(Settings s) throws IOException {
        long start = System.nanoTime();
        Map<String, Double> seconds = new LinkedHashMap<>();
        PrintStream log = s.log();
        prepareFolder(s.out());

        Path backbones = s.backbones() != null ? s.backbones() : Backbones.extractShipped(s.out().resolve("backbones"));
        long worldSeed = Backbones.worldSeed(backbones, s.seed());
        NvlmConfig config = Presets.get(s.preset(), s.arch());
        Nvlm model = Nvlm.create(config, new SplittableRandom(s.seed()));
        Backbones.load(model, backbones, backbones);
        model.to(s.device());
        SyntheticWorld world = new SyntheticWorld(WorldConfig.forModel(config, worldSeed));
        SampleEncoder encoder = WorldStage.encoder(config, SampleEncoder.Options.defaults());
        TagMode tagMode = encoder.tagMode();
        log.printf(Locale.ROOT, "demo: NVLM-%s, preset %s, seed %d, device %s; backbones %s (world seed %d)%n", s.arch(), s.preset(),
                s.seed(), s.device(), s.backbones() != null ? backbones
                        : "shipped with this build (./nvlm pretrain-backbones --seed " + worldSeed + ")", worldSeed);

        long t = System.nanoTime();
        Map<String, List<Example>> textExamples = Evaluation.worldExamples(world, Split.TEST, 0, s.recipe().textEvalSamples(),
                View.IMAGE, tagMode);
        EvalResult backboneText = Evaluation.run(model, encoder, textExamples, Evaluation.MAX_NEW_TOKENS, s.progress(), log);
        seconds.put("backbone_eval", elapsed(t));
        log.print("backbone (stage 0) text-only accuracy:\n" + backboneText.table());

        t = System.nanoTime();
        Map<String, List<Example>> stage1Examples = Evaluation.worldExamples(world, Split.VALIDATION, s.recipe().evalSamples() / 4,
                s.recipe().textEvalSamples() / 4, View.IMAGE, tagMode);
        DataSpec data = DataSpec.world(worldSeed, s.recipe().questions());
        TrainResult r1 = train(model, s.recipe().stage1(), data, config, options(s, m -> Evaluation.run(m, encoder, stage1Examples,
                Evaluation.MAX_NEW_TOKENS, s.progress(), log).accuracies()), s.out().resolve("stage1"));
        seconds.put("stage1", elapsed(t));

        t = System.nanoTime();
        Map<String, List<Example>> testExamples = Evaluation.worldExamples(world, Split.TEST, s.recipe().evalSamples(),
                s.recipe().textEvalSamples(), View.IMAGE, tagMode);
        EvalResult[] finalEval = new EvalResult[1];
        TrainResult r2 = train(model, s.recipe().stage2(), data, config, options(s, m -> {
            long e = System.nanoTime();
            finalEval[0] = Evaluation.run(m, encoder, testExamples, Evaluation.MAX_NEW_TOKENS, s.progress(), log);
            seconds.put("eval", elapsed(e));
            return finalEval[0].accuracies();
        }), s.out().resolve("stage2"));
        seconds.put("stage2", elapsed(t) - seconds.get("eval"));
        EvalResult evaluation = finalEval[0];

        Path modelDir = s.out().resolve(MODEL_DIR);
        copyModel(r2.modelDir(), modelDir, worldSeed);
        Path evalJson = s.out().resolve(EVAL_JSON);
        writeAtomically(evalJson, evaluation.toJson() + "\n");
        Path report = TrainingReport.write(s.out(), "NVLM-" + s.arch() + " demo (" + s.preset() + " preset, seed " + s.seed() + ")",
                List.of(new TrainingReport.StageRun("backbone (stage 0)", List.of(), backboneText.accuracies()),
                        TrainingReport.StageRun.fromRunFolder("stage 1", r1Dir(s), lastEval(s.out().resolve("stage1"))),
                        TrainingReport.StageRun.fromRunFolder("stage 2", s.out().resolve("stage2"), evaluation.accuracies())));
        seconds.put("total", elapsed(start));

        Map<String, Object> demo = new LinkedHashMap<>();
        demo.put("architecture", s.arch().name());
        demo.put("preset", s.preset());
        demo.put("seed", s.seed());
        demo.put("world_seed", worldSeed);
        demo.put("backbones", backbones.toString());
        demo.put("recipe", s.recipe().toJson());
        demo.put("evaluation", new LinkedHashMap<>(evaluation.accuracies()));
        demo.put("backbone_text", new LinkedHashMap<>(backboneText.accuracies()));
        demo.put("text_only_mean", evaluation.textOnlyAccuracy());
        demo.put("backbone_text_only_mean", backboneText.textOnlyAccuracy());
        demo.put("seconds", new LinkedHashMap<>(seconds));
        writeAtomically(s.out().resolve(DEMO_JSON), Json.writePretty(demo) + "\n");

        log.println();
        log.print("evaluation after SFT (test split, exact match):\n" + evaluation.table());
        log.printf(Locale.ROOT, "text-only: %.1f%% after SFT vs %.1f%% for the backbone (%+.1f points)%n",
                100 * evaluation.textOnlyAccuracy(), 100 * backboneText.textOnlyAccuracy(),
                100 * (evaluation.textOnlyAccuracy() - backboneText.textOnlyAccuracy()));
        log.printf(Locale.ROOT, "time: %.0f s (stage 1 %.0f s, stage 2 %.0f s, evaluation %.0f s)%n", seconds.get("total"),
                seconds.get("stage1"), seconds.get("stage2"), seconds.get("eval") + seconds.get("backbone_eval"));
        log.println("model:  " + modelDir);
        log.println("eval:   " + evalJson);
        log.println("report: " + report);
        return new Result(evaluation, backboneText, modelDir, report, evalJson, seconds);
    }

    private static Path r1Dir(Settings s) {
        return s.out().resolve("stage1");
    }

    private static Map<String, Double> lastEval(Path runDir) throws IOException {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Map<String, Object> r : nvlm.trainer.train.MetricsLog.read(runDir.resolve(nvlm.trainer.train.MetricsLog.FILE))) {
            if ("eval".equals(r.get("type")) && r.get("accuracy") instanceof Map<?, ?> acc) {
                out.clear();
                acc.forEach((k, v) -> out.put((String) k, v instanceof Number n ? n.doubleValue() : Double.NaN));
            }
        }
        return out;
    }

    private static TrainerOptions options(Settings s, nvlm.trainer.train.Evaluator evaluator) {
        return TrainerOptions.defaults().withCheckpointEvery(0).withKeepCheckpoints(1).withProgress(s.progress(), s.log(), 0)
                .withEvaluator(evaluator, 0).withDevice(s.device());
    }

    /**
     * Trains {@code model} in place for one stage on {@code data}'s examples (encoded for
     * {@code modelConfig}: its tiling and tag mode), in the fresh run folder {@code runDir}
     * ({@code data.json}, stage.json, metrics.jsonl, checkpoints/, model/). Fails unless the stage
     * completes. Also the building block of the experiments ({@code ./nvlm experiment}).
     */
    public static TrainResult train(Nvlm model, StageConfig config, DataSpec data, NvlmConfig modelConfig,
                                    TrainerOptions options, Path runDir) throws IOException {
        data.write(runDir);
        try (LoaderBatches batches = WorldStage.batches(data.source(config, modelConfig), data.encoder(modelConfig), config)) {
            TrainResult r = Trainer.start(model, config, batches, runDir, options).run();
            if (r.status() != TrainResult.Status.COMPLETED) {
                throw new IllegalStateException("stage " + config.stage().number() + " stopped after step " + r.step()
                        + " (checkpoint " + r.checkpoint() + ")");
            }
            return r;
        }
    }

    /** A fresh demo folder, or one a previous demo wrote (its stage folders are removed); anything else is refused. */
    static void prepareFolder(Path out) throws IOException {
        if (Files.isDirectory(out)) {
            boolean empty;
            try (var list = Files.list(out)) {
                empty = list.findAny().isEmpty();
            }
            if (!empty && !Files.exists(out.resolve(DEMO_JSON)) && !Files.exists(out.resolve("stage1"))) {
                throw new IllegalArgumentException(out + " exists and is not a demo folder (no " + DEMO_JSON + "); choose another --out");
            }
            for (String sub : List.of("stage1", "stage2")) {
                DurableFiles.deleteTree(out.resolve(sub));
            }
            AtomicFolder.delete(out.resolve(MODEL_DIR));
            Files.deleteIfExists(out.resolve(DEMO_JSON));
            Files.deleteIfExists(out.resolve(EVAL_JSON));
        }
        Files.createDirectories(out);
    }

    /** Stage 2's model with the world's seed beside it, as one folder that a kill leaves whole or absent. */
    private static void copyModel(Path from, Path to, long worldSeed) throws IOException {
        List<Path> files = new ArrayList<>();
        try (var list = Files.list(from)) {
            list.forEach(files::add);
        }
        AtomicFolder.replace(to, folder -> {
            for (Path f : files) {
                Files.copy(f, folder.resolve(f.getFileName()));
            }
            Files.writeString(folder.resolve(WORLD_JSON), Json.writePretty(Map.of("world_seed", worldSeed)) + "\n");
        });
    }

    static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static double elapsed(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
