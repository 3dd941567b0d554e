package nvlm.trainer.experiment;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import nvlm.model.Nvlm;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.tensor.io.DurableFiles;
import nvlm.tensor.io.Json;
import nvlm.trainer.backbone.Backbones;
import nvlm.trainer.cli.OptionTypes;
import nvlm.trainer.cli.ProgressOption;
import nvlm.trainer.data.Example;
import nvlm.trainer.data.ExampleSource;
import nvlm.trainer.data.Family;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.View;
import nvlm.trainer.eval.EvalResult;
import nvlm.trainer.eval.Evaluation;
import nvlm.trainer.pipeline.WorldStage;
import nvlm.trainer.recipe.DemoRecipe;
import nvlm.trainer.recipe.StageConfig;
import nvlm.trainer.train.LoaderBatches;
import nvlm.trainer.train.MetricsLog;
import nvlm.trainer.train.TrainResult;
import nvlm.trainer.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import nvlm.trainer.recipe.Stage;

/**
 * {@code ./nvlm experiment overfit}: can stage 1 fit a handful of OCR examples? In the spirit of
 * the paper's Appendix C: if the trainable parts of stage 1 (the projector for D, the
 * cross-attention blocks for X, both for H) cannot even memorise 64 examples, they lack the
 * capacity or the information to read the tiles, and no recipe will fix it. Trains stage 1 of the
 * demo's recipe on the first {@code --examples} OCR training examples only, cycled, and reports
 * loss and exact match on those same examples before and after.
 */
@Command(name = OverfitExperiment.NAME, header = "can stage 1 fit 64 OCR examples? loss and exact match on them (paper Appendix C)",
        description = """
                Stage 1 (LLM frozen) of the demo's recipe for --arch, from the backbones, on the first --examples OCR training
                examples only (cycled, --steps steps of 8 rows). Prints the training loss at the start and the end and exact
                match on those same examples before and after. With --json: {"arch":..,"examples":n,"steps":n,
                "loss_first":..,"loss_last":..,"exact_match_before":..,"exact_match_after":..}.""")
public final class OverfitExperiment implements Callable<Integer> {
    static final String NAME = "overfit";
    /** Steps whose mean loss is reported as the last (the loss of one step of 8 rows is noisy). */
    static final int LAST_STEPS = 20;

    @Option(names = "--arch", paramLabel = "A", description = "d, x or h (default ${DEFAULT-VALUE})")
    Architecture arch = Architecture.X;
    @Option(names = "--examples", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "OCR training examples to fit (default ${DEFAULT-VALUE})")
    int examples = 64;
    @Option(names = "--steps", paramLabel = "N", converter = OptionTypes.AtLeastOne.class, description = "optimizer steps (default ${DEFAULT-VALUE})")
    int steps = 600;
    @Option(names = "--seed", paramLabel = "S", description = "seed of the new weights and the data order (default ${DEFAULT-VALUE})")
    long seed = 1;
    @Option(names = "--backbones", paramLabel = "DIR", description = "start from these backbones instead of the shipped ones")
    Path backbones;
    @Option(names = "--out", paramLabel = "DIR", description = "run folder (default runs/experiment-overfit-<arch>)")
    Path out;
    @Mixin
    ProgressOption progress;
    @Option(names = "--json", description = "print one JSON object of the figures on stdout (the table goes to stderr)")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintStream log = json ? System.err : System.out;
        Path dir = out != null ? out : Path.of("runs", "experiment-overfit-" + arch.name().toLowerCase(Locale.ROOT));
        Map<String, Object> figures = run(dir, log);
        if (json) {
            System.out.println(Json.write(figures));
        }
        return 0;
    }

    Map<String, Object> run(Path dir, PrintStream log) throws IOException {
        if (Files.exists(dir.resolve("stage1"))) {
            DurableFiles.deleteTree(dir.resolve("stage1"));
        }
        Files.createDirectories(dir);
        Path from = backbones != null ? backbones : Backbones.extractShipped(dir.resolve("backbones"));
        long worldSeed = Backbones.worldSeed(from, 1);
        NvlmConfig config = Presets.get(WorldExperiment.PRESET, arch);
        WorldExperiment.Start start = new WorldExperiment.Start(from, worldSeed);
        SyntheticWorld world = start.world(config);
        SampleEncoder encoder = WorldStage.encoder(config, SampleEncoder.Options.defaults());
        List<Example> set = new ArrayList<>();
        for (int i = 0; i < examples; i++) {
            set.add(world.example(Split.TRAIN, Family.OCR, i, View.IMAGE, encoder.tagMode()));
        }
        Map<String, List<Example>> byFamily = Map.of(Family.OCR.id(), set);
        StageConfig stage1 = DemoRecipe.of(arch, seed).stage1();
        StageConfig config1 = stage1.withSteps(steps, Math.max(1, steps / 10));
        log.printf(Locale.ROOT, "overfit: NVLM-%s stage 1 (%s) on %d OCR training examples, %d steps of %d rows, peak lr %.2g%n", arch,
                Stage.PRETRAINING.trainedParts(arch), examples, steps, config1.globalBatchSize(), config1.peakLr());

        Nvlm model = start.model(config, seed);
        EvalResult before = Evaluation.run(model, encoder, byFamily, Evaluation.MAX_NEW_TOKENS, progress.mode, log);
        int rows = Math.multiplyExact(steps, config1.globalBatchSize());
        ExampleSource cycled = new ExampleSource() {
            @Override
            public int size() {
                return rows;
            }

            @Override
            public Example get(int index) {
                return set.get(index % set.size());
            }
        };
        TrainResult r;
        Path runDir = dir.resolve("stage1");
        try (LoaderBatches batches = WorldStage.batches(cycled, encoder, config1)) {
            r = Trainer.start(model, config1, batches, runDir, WorldExperiment.stageOptions(progress.mode, log)).run();
        }
        if (r.status() != TrainResult.Status.COMPLETED) {
            throw new IllegalStateException("overfit: stage 1 stopped after step " + r.step());
        }
        EvalResult after = Evaluation.run(model, encoder, byFamily, Evaluation.MAX_NEW_TOKENS, progress.mode, log);
        List<Double> losses = new ArrayList<>();
        for (Map<String, Object> rec : MetricsLog.read(runDir.resolve(MetricsLog.FILE))) {
            if ("train".equals(rec.get("type"))) {
                losses.add(((Number) rec.get("loss")).doubleValue());
            }
        }
        double first = losses.get(0);
        double last = losses.subList(Math.max(0, losses.size() - LAST_STEPS), losses.size()).stream()
                .mapToDouble(Double::doubleValue).average().orElse(Double.NaN);

        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arch", arch.name().toLowerCase(Locale.ROOT));
        m.put("examples", (long) examples);
        m.put("steps", (long) steps);
        m.put("loss_first", first);
        m.put("loss_last", last);
        m.put("exact_match_before", before.accuracies().get(Family.OCR.id()));
        m.put("exact_match_after", after.accuracies().get(Family.OCR.id()));
        WorldExperiment.writeAtomically(dir.resolve("results.json"), Json.writePretty(m) + "\n");
        log.printf(Locale.ROOT, "%nNVLM-%s, stage 1 on %d OCR examples, %d steps: loss %.3f -> %.3f (mean of the last %d steps);"
                        + " exact match on them %s -> %s%n", arch, examples, steps, first, last, LAST_STEPS,
                WorldExperiment.percent(before.accuracies().get(Family.OCR.id())),
                WorldExperiment.percent(after.accuracies().get(Family.OCR.id())));
        return m;
    }
}
