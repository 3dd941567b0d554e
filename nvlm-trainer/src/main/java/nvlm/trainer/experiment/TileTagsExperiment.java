package nvlm.trainer.experiment;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import nvlm.model.Nvlm;
import nvlm.model.config.NvlmConfig;
import nvlm.model.prompt.Sample;
import nvlm.trainer.data.Example;
import nvlm.trainer.data.Family;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.View;
import nvlm.trainer.eval.EvalResult;
import nvlm.trainer.eval.Evaluation;
import nvlm.trainer.pipeline.DataSpec;
import nvlm.trainer.pipeline.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code ./nvlm experiment tile-tags}: the paper's Table 1 at toy scale. For each
 * {@link TileSetting} (low resolution, DHR without tags, 1-D, 2-D grid and 2-D bounding-box tags)
 * NVLM-D starts from the same backbones with the same new weights, runs stage 1 and stage 2 with
 * the same seeds and step counts, and is evaluated on the test split with the tiling it was
 * trained with. The paper finds DHR beats low resolution and tags help, 1-D best
 * (OCR-heavy benchmarks gain most).
 */
@Command(name = TileTagsExperiment.NAME,
        header = "low-res vs DHR without tags vs 1-D / 2-D grid / 2-D bbox tile tags, trained and evaluated (paper Table 1)",
        description = """
                The paper's Table 1 at toy scale (NVLM-D, tiny preset, the synthetic world): five runs, each from the
                same backbones with the same seeds and step counts, differing only in how images are tiled and tagged:
                  low_res      one S x S tile per image (no dynamic high resolution, no tag)
                  dhr_no_tags  dynamic high resolution (up to 6 tiles + thumbnail), tiles back to back
                  1d           DHR, each tile announced by <tile_k> (the paper's choice)
                  2d_grid      DHR, <tile_x{col}_y{row}>
                  2d_bbox      DHR, <tile_bbox_{x0}_{y0}_{x1}_{y1}> (the tile's box in the image, two decimals)
                Each run trains stage 1 and stage 2 and is evaluated (exact match) on the test split with its own tiling.
                Prints a table (rows: setting; columns: each image family's accuracy and the image mean) and, with
                --json, {"low_res":{family:accuracy,...,"image_mean":..},"dhr_no_tags":{..},"1d":{..},"2d_grid":{..},
                "2d_bbox":{..}} (accuracies in [0, 1]); results.json in the run folder holds the same object.
                Run folders: <out>/<setting>/stage1, <out>/<setting>/stage2.""")
public final class TileTagsExperiment implements Callable<Integer> {
    static final String NAME = "tile-tags";
    /** Text-only tasks see no image, so the tiling cannot matter to them; they are left out unless asked for. */
    static final int TEXT_SAMPLES = 0;

    @Mixin
    WorldExperiment.Options options = new WorldExperiment.Options(NAME, TEXT_SAMPLES);

    @Override
    public Integer call() throws IOException {
        return options.run(TileTagsExperiment::report);
    }

    /** Runs the experiment, prints its table, writes {@value WorldExperiment#RESULTS} and returns the JSON object. */
    public static Map<String, Object> report(WorldExperiment w) throws IOException {
        Map<TileSetting, EvalResult> results = run(w);
        Map<String, Object> json = json(results);
        w.log().println();
        w.log().print("test split, exact match, by tiling setting:\n" + table(results));
        w.log().println("results: " + w.writeResults(json));
        return json;
    }

    /** Trains and evaluates every setting in turn; the settings' results in {@link TileSetting} order. */
    public static Map<TileSetting, EvalResult> run(WorldExperiment w) throws IOException {
        List<String> folders = new ArrayList<>();
        for (TileSetting s : TileSetting.values()) {
            folders.add(s.key());
        }
        WorldExperiment.Start start = w.start(folders);
        PrintStream log = w.log();
        NvlmConfig base = w.config();
        SyntheticWorld world = start.world(base);
        DataSpec data = start.data(w.recipe().questions());
        Map<TileSetting, EvalResult> results = new LinkedHashMap<>();
        for (TileSetting s : TileSetting.values()) {
            long t0 = System.nanoTime();
            NvlmConfig config = s.config(base);
            DataSpec spec = s.data(data);
            SampleEncoder encoder = spec.encoder(config);
            Map<String, List<Example>> test = Evaluation.worldExamples(world, Split.TEST, w.recipe().evalSamples(),
                    w.recipe().textEvalSamples(), View.IMAGE, s.tagMode());
            Sample ocr = encoder.encodeForGeneration(world.example(Split.TEST, Family.OCR, 0, View.IMAGE, s.tagMode()));
            log.printf(Locale.ROOT, "%n== %s (%s): the first OCR test prompt is %d tokens, %d tiles%n", s.key(), s.label(),
                    ocr.length(), ocr.tiles());
            Nvlm model = start.model(config, w.seed());
            Demo.train(model, w.recipe().stage1(), spec, config, w.trainerOptions(null), w.out().resolve(s.key()).resolve("stage1"));
            EvalResult[] evaluation = new EvalResult[1];
            Demo.train(model, w.recipe().stage2(), spec, config, w.trainerOptions(m -> {
                evaluation[0] = w.evaluate(m, encoder, test);
                return evaluation[0].accuracies();
            }), w.out().resolve(s.key()).resolve("stage2"));
            results.put(s, evaluation[0]);
            log.printf(Locale.ROOT, "%s: image mean %s (%.0f s)%n", s.key(), WorldExperiment.percent(evaluation[0].imageAccuracy()),
                    (System.nanoTime() - t0) / 1e9);
        }
        return results;
    }

    /** The JSON object: setting key to (family to accuracy, then "image_mean"). */
    public static Map<String, Object> json(Map<TileSetting, EvalResult> results) {
        Map<String, Object> json = new LinkedHashMap<>();
        results.forEach((s, r) -> json.put(s.key(), WorldExperiment.accuracies(r, "image_mean", true)));
        return json;
    }

    static String table(Map<TileSetting, EvalResult> results) {
        Map<String, String> labels = new LinkedHashMap<>();
        Map<String, EvalResult> byKey = new LinkedHashMap<>();
        results.forEach((s, r) -> {
            labels.put(s.key(), s.label());
            byKey.put(s.key(), r);
        });
        boolean text = results.values().stream().anyMatch(r -> !Double.isNaN(r.textOnlyAccuracy()));
        return WorldExperiment.table("setting", labels, byKey, true, text);
    }
}
