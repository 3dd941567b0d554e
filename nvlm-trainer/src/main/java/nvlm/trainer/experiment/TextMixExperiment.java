package nvlm.trainer.experiment;

import java.io.IOException;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.NvlmConfig;
import nvlm.tensor.Device;
import nvlm.trainer.data.Example;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.View;
import nvlm.trainer.eval.EvalResult;
import nvlm.trainer.eval.Evaluation;
import nvlm.trainer.pipeline.DataSpec;
import nvlm.trainer.pipeline.Demo;
import nvlm.trainer.recipe.DemoRecipe;
import nvlm.trainer.recipe.StageConfig;
import nvlm.trainer.train.TrainResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import nvlm.trainer.recipe.Stage;

/**
 * {@code ./nvlm experiment text-mix}: the paper's Table 8 at toy scale. Multimodal SFT with the
 * LLM unfrozen erodes the LLM's text-only skills unless text-only SFT data is mixed in. Measures
 * the text-only (and image) accuracy of the backbone, then runs stage 1 once and, from its result,
 * two stage 2 runs that differ only in the text-only ratio: 0, and the demo's.
 */
@Command(name = TextMixExperiment.NAME,
        header = "text-only accuracy of the backbone vs SFT without / with text-only data (paper Table 8)",
        description = """
                The paper's Table 8 at toy scale (NVLM-D, tiny preset, the synthetic world): text-only accuracy
                (families text_...) of
                  backbone          the LLM backbone as shipped (stage 0), with an untrained projector
                  sft_without_text  after stage 1 and stage 2 with no text-only data mixed in (ratio 0)
                  sft_with_text     after stage 1 and stage 2 with the demo's text-only ratio
                Stage 1 runs once; both stage 2 runs start from its result with the same seed and steps. The image
                families are measured too (exact match on the test split, as ./nvlm eval).
                Prints a table and, with --json, {"backbone":{family:accuracy,...,"text_only_mean":..},
                "sft_without_text":{..},"sft_with_text":{..}} (accuracies in [0, 1]); results.json in the run folder
                holds the same object. Run folders: <out>/stage1, <out>/sft_without_text, <out>/sft_with_text.""")
public final class TextMixExperiment implements Callable<Integer> {
    static final String NAME = "text-mix";
    public static final String BACKBONE = "backbone";
    public static final String WITHOUT_TEXT = "sft_without_text";
    public static final String WITH_TEXT = "sft_with_text";

    @Mixin
    WorldExperiment.Options options = new WorldExperiment.Options(NAME, DemoRecipe.of(WorldExperiment.ARCH, 1).textEvalSamples());

    @Override
    public Integer call() throws IOException {
        return options.run(TextMixExperiment::report);
    }

    /** Runs the experiment, prints its table, writes {@value WorldExperiment#RESULTS} and returns the JSON object. */
    public static Map<String, Object> report(WorldExperiment w) throws IOException {
        Map<String, EvalResult> results = run(w);
        Map<String, Object> json = json(results);
        PrintStream log = w.log();
        log.println();
        log.print("test split, exact match:\n" + table(results));
        EvalResult backbone = results.get(BACKBONE);
        log.printf(Locale.ROOT, "text-only mean vs the backbone: %+.1f points without text-only SFT data, %+.1f with (ratio %s)%n",
                100 * (results.get(WITHOUT_TEXT).textOnlyAccuracy() - backbone.textOnlyAccuracy()),
                100 * (results.get(WITH_TEXT).textOnlyAccuracy() - backbone.textOnlyAccuracy()), w.recipe().stage2().textOnlyRatio());
        log.println("results: " + w.writeResults(json));
        return json;
    }

    /** The three measurements, in the order backbone, SFT without text, SFT with text. */
    public static Map<String, EvalResult> run(WorldExperiment w) throws IOException {
        WorldExperiment.Start start = w.start(List.of("stage1", WITHOUT_TEXT, WITH_TEXT));
        PrintStream log = w.log();
        NvlmConfig config = w.config();
        DataSpec data = start.data(w.recipe().questions());
        SampleEncoder encoder = data.encoder(config);
        Map<String, List<Example>> test = Evaluation.worldExamples(start.world(config), Split.TEST, w.recipe().evalSamples(),
                w.recipe().textEvalSamples(), View.IMAGE, encoder.tagMode());
        Map<String, EvalResult> results = new LinkedHashMap<>();

        Nvlm model = start.model(config, w.seed());
        log.printf(Locale.ROOT, "%n== backbone%n");
        results.put(BACKBONE, w.evaluate(model, encoder, test));
        log.printf(Locale.ROOT, "backbone: text-only mean %s%n", WorldExperiment.percent(results.get(BACKBONE).textOnlyAccuracy()));

        log.printf(Locale.ROOT, "%n== stage 1 (shared)%n");
        TrainResult stage1 = Demo.train(model, w.recipe().stage1(), data, config, w.trainerOptions(null), w.out().resolve("stage1"));

        StageConfig sft = w.recipe().stage2();
        for (var run : List.of(Map.entry(WITHOUT_TEXT, sft.withTextOnlyRatio(0)), Map.entry(WITH_TEXT, sft))) {
            log.printf(Locale.ROOT, "%n== %s: stage 2 from stage 1's model, text-only ratio %s%n", run.getKey(),
                    run.getValue().textOnlyRatio());
            // Each SFT starts from the same weights: stage 1's model folder (F32, so exactly what stage 1 ended with).
            Nvlm m = Checkpoint.load(stage1.modelDir(), Device.CPU);
            EvalResult[] evaluation = new EvalResult[1];
            Demo.train(m, run.getValue(), data, config, w.trainerOptions(trained -> {
                evaluation[0] = w.evaluate(trained, encoder, test);
                return evaluation[0].accuracies();
            }), w.out().resolve(run.getKey()));
            results.put(run.getKey(), evaluation[0]);
            log.printf(Locale.ROOT, "%s: text-only mean %s%n", run.getKey(), WorldExperiment.percent(evaluation[0].textOnlyAccuracy()));
        }
        return results;
    }

    /** The JSON object: run to (family to accuracy, then "text_only_mean"). */
    public static Map<String, Object> json(Map<String, EvalResult> results) {
        Map<String, Object> json = new LinkedHashMap<>();
        results.forEach((run, r) -> json.put(run, WorldExperiment.accuracies(r, "text_only_mean", false)));
        return json;
    }

    static String table(Map<String, EvalResult> results) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(BACKBONE, "backbone (stage 0)");
        labels.put(WITHOUT_TEXT, "SFT, no text-only data");
        labels.put(WITH_TEXT, "SFT with text-only data");
        boolean image = results.values().stream().anyMatch(r -> !Double.isNaN(r.imageAccuracy()));
        return WorldExperiment.table("model", labels, results, image, true);
    }
}
