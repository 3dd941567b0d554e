package nvlm.trainer.experiment;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.tensor.Device;
import nvlm.tensor.io.DurableFiles;
import nvlm.tensor.io.Json;
import nvlm.trainer.backbone.Backbones;
import nvlm.trainer.cli.DemoRecipeOptions;
import nvlm.trainer.cli.ProgressOption;
import nvlm.trainer.data.Example;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.View;
import nvlm.trainer.data.WorldConfig;
import nvlm.trainer.eval.EvalResult;
import nvlm.trainer.eval.Evaluation;
import nvlm.trainer.eval.FamilyScore;
import nvlm.trainer.pipeline.DataSpec;
import nvlm.trainer.pipeline.Demo;
import nvlm.trainer.pipeline.WorldStage;
import nvlm.trainer.recipe.DemoRecipe;
import nvlm.trainer.recipe.StageConfig;
import nvlm.trainer.report.TrainingReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./nvlm experiment compare}: the paper's Table 7 in miniature. NVLM-D, -X and -H start
 * from the same backbones and each runs stages 1 and 2 of its recipe ({@link DemoRecipe#of}: the
 * paper's relative rates) for every seed; accuracy per family is the mean and sample standard
 * deviation over the seeds, beside the training throughput of each.
 *
 * <p>Each (architecture, seed) trains once into {@code <out>/<arch>-seed<S>/} ({@value #RUN_JSON}:
 * what ran, its throughput and every evaluation made of it). A later run with the same recipe and
 * backbones reuses it, so more seeds, another split or another world seed cost only what is new.
 * The recipe is chosen on {@code --split validation}; the test split is read once per reported figure.
 */
@Command(name = CompareExperiment.NAME,
        header = "NVLM-D vs NVLM-X vs NVLM-H trained alike: accuracy per family over seeds and throughput (paper Table 7)",
        description = """
                Trains every architecture of --archs from the same backbones, stages 1 and 2 of the demo's recipe for each
                (the paper's relative learning rates: stage 2 of X and H at five times D's), once per seed of --seeds, then
                evaluates each on --split (exact match). Prints accuracy per family as mean +- sample standard deviation over
                the seeds, the number of examples per family, and each architecture's training samples/s and tokens per
                sample (stage 2) beside the paper's X/D 1.76 and H/D 1.26 (Table 3). With --json: {"split":..,
                "world_seed":..,"seeds":[..],"tagged_memory":..,"tags_in_sequence":..,"examples":{"image":n,"text":m},"d":{family:{"mean":..,"sd":..,"n":..},..,
                "throughput":{..}},"x":{..},"h":{..}}. Run folders <out>/<arch>-seed<S>/ are reused when their recipe and
                backbones match; results go to <out>/compare-<split>[-world<W>][-tagged][-seqtags].json.""")
public final class CompareExperiment implements Callable<Integer> {
    static final String NAME = "compare";
    /** In each run folder: settings, throughput and the evaluations made of its model. */
    public static final String RUN_JSON = "run.json";
    /** The paper's training throughput ratios (Table 3, 34B, samples/s): X/D and H/D. */
    static final double PAPER_X_OVER_D = 50.6 / 28.8;
    static final double PAPER_H_OVER_D = 36.2 / 28.8;

    @Mixin
    DemoRecipeOptions recipe = new DemoRecipeOptions();
    @Option(names = "--archs", split = ",", paramLabel = "A,..", description = "architectures to compare (default d,x,h)")
    List<Architecture> archs = List.of(Architecture.D, Architecture.X, Architecture.H);
    @Option(names = "--seeds", split = ",", paramLabel = "S,..", description = "seeds of stages 1 and 2 (default 1,2,3)")
    List<Long> seeds = List.of(1L, 2L, 3L);
    @Option(names = "--split", paramLabel = "SPLIT", description = "test or validation (default ${DEFAULT-VALUE}): choose a recipe on"
            + " validation, read test once per reported figure")
    Split split = Split.TEST;
    @Option(names = "--world-seed", paramLabel = "W", description = "evaluate on pictures drawn with this world seed instead of the"
            + " backbones' own (the same families and rules, pictures never trained or chosen on)")
    Long worldSeed;
    @Option(names = "--out", paramLabel = "DIR", description = "experiment folder (default ${DEFAULT-VALUE})")
    Path out = Path.of("runs", "experiment-" + NAME);
    @Mixin
    ProgressOption progress;
    @Option(names = "--json", description = "print one JSON object of the figures on stdout (the table goes to stderr)")
    boolean json;
    @Option(names = "--tagged-memory", description = "X and H with tagged cross-attention memory (a project decision beyond the"
            + " paper, docs/model.md §7), in run folders <arch>-seed<S>-tagged/ beside the runs without it; D is unchanged")
    boolean taggedMemory;
    @Option(names = "--tags-in-sequence", description = "H with every regular tile's tag in its decoder sequence (a project"
            + " decision beyond the paper, docs/model.md §7), in run folders h-seed<S>[-tagged]-seqtags/ beside the runs without"
            + " it; D and X are unchanged")
    boolean tagsInSequence;

    @Override
    public Integer call() throws IOException {
        PrintStream log = json ? System.err : System.out;
        Map<String, Object> figures = run(log);
        if (json) {
            System.out.println(Json.write(figures));
        }
        return 0;
    }

    /** One trained (architecture, seed): where it is and its throughput. */
    record Run(Architecture arch, long seed, Path dir, Map<String, Object> json) {
    }

    /** What every run of an experiment folder starts from: the first recipe (validated), the backbones, their id and world seed. */
    record Setup(DemoRecipe recipe, Path backbones, String backbonesId, long world) {
    }

    /**
     * Checks --out and the recipe options before anything is written (with the first architecture
     * and seed), creates --out and finds the backbones (--backbones, or the shipped ones extracted there).
     */
    Setup setup(Architecture firstArch, long firstSeed) throws IOException {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IllegalArgumentException("--out " + out + " is a file, not a folder");
        }
        DemoRecipe first = recipe.recipe(firstArch, firstSeed); // a bad option fails here, before anything is written
        Files.createDirectories(out);
        Path backbones = recipe.backbones != null ? recipe.backbones : Backbones.extractShipped(out.resolve("backbones"));
        return new Setup(first, backbones, String.valueOf(Backbones.manifest(backbones).get("weights_sha256")),
                Backbones.worldSeed(backbones, 1));
    }

    Map<String, Object> run(PrintStream log) throws IOException {
        if (archs.isEmpty() || seeds.isEmpty()) {
            throw new IllegalArgumentException("--archs and --seeds need at least one value each");
        }
        Setup start = setup(archs.get(0), seeds.get(0));
        DemoRecipe any = start.recipe();
        Path backbones = start.backbones();
        String backbonesId = start.backbonesId();
        long trainWorld = start.world();
        long evalWorld = worldSeed != null ? worldSeed : trainWorld;
        log.printf(Locale.ROOT, "compare: %s%s, seeds %s; backbones %s (world seed %d); evaluation on %s of world seed %d,"
                        + " %d examples per image family, %d per text family%n", archs,
                (taggedMemory ? " (X and H with tagged memory)" : "") + (tagsInSequence ? " (H with tags in its sequence)" : ""), seeds, backbones, trainWorld, split.id(), evalWorld,
                any.evalSamples(), any.textEvalSamples());

        Map<Architecture, List<EvalResult>> results = new LinkedHashMap<>();
        Map<Architecture, List<Run>> runs = new LinkedHashMap<>();
        for (Architecture arch : archs) {
            for (long seed : seeds) {
                Run r = trained(arch, seed, backbones, backbonesId, trainWorld, log);
                results.computeIfAbsent(arch, a -> new ArrayList<>()).add(evaluated(r, evalWorld, log));
                runs.computeIfAbsent(arch, a -> new ArrayList<>()).add(r);
            }
        }
        Map<String, Object> figures = json(results, runs, evalWorld, any);
        log.println();
        log.print(table(results, runs, evalWorld, any));
        Path file = out.resolve("compare-" + split.id() + (worldSeed != null ? "-world" + worldSeed : "")
                + (taggedMemory ? "-tagged" : "") + (tagsInSequence ? "-seqtags" : "") + ".json");
        WorldExperiment.writeAtomically(file, Json.writePretty(figures) + "\n");
        log.println("results: " + file);
        return figures;
    }

    /** The run of (arch, seed): reused when its run.json has the same stages and backbones, else trained afresh. */
    Run trained(Architecture arch, long seed, Path backbones, String backbonesId, long trainWorld, PrintStream log)
            throws IOException {
        return trained(arch, seed, false, backbones, backbonesId, trainWorld, log);
    }

    /**
     * The run of (arch, seed), or with {@code frozenLlm} its twin whose stage 2 keeps the LLM
     * frozen ({@link nvlm.trainer.recipe.StageConfig#frozenLlm}, in {@code <arch>-seed<S>-frozen-llm/}):
     * the twin starts from the first run's stage-1 model, so the two differ in stage 2 only.
     */
    Run trained(Architecture arch, long seed, boolean frozenLlm, Path backbones, String backbonesId, long trainWorld,
                PrintStream log) throws IOException {
        DemoRecipe r = recipe.recipe(arch, seed);
        StageConfig stage2 = r.stage2().withFrozenLlm(frozenLlm);
        Run base = frozenLlm ? trained(arch, seed, false, backbones, backbonesId, trainWorld, log) : null;
        boolean tagged = taggedMemory && arch != Architecture.D;
        boolean seqTags = tagsInSequence && arch == Architecture.H;
        Path dir = out.resolve(arch.name().toLowerCase(Locale.ROOT) + "-seed" + seed + (tagged ? "-tagged" : "")
                + (seqTags ? "-seqtags" : "") + (frozenLlm ? "-frozen-llm" : ""));
        Map<String, Object> stages = new LinkedHashMap<>();
        stages.put("stage1", r.stage1().toJson());
        stages.put("stage2", stage2.toJson());
        stages.put("questions", (long) r.questions());
        if (tagged) {
            stages.put("tagged_memory", true);
        }
        if (seqTags) {
            stages.put("tags_in_sequence", true);
        }
        Path runJson = dir.resolve(RUN_JSON);
        if (Files.exists(runJson) && Files.isDirectory(dir.resolve("stage2").resolve("model"))) {
            Map<String, Object> old = Json.parseObject(Files.readString(runJson));
            if (Json.write(stages).equals(Json.write(old.get("recipe"))) && backbonesId.equals(old.get("backbones_sha256"))) {
                log.printf(Locale.ROOT, "%s seed %d%s: trained before (%s)%n", arch, seed, frozenLlm ? ", LLM frozen in stage 2" : "", dir);
                return new Run(arch, seed, dir, old);
            }
        }
        for (String sub : List.of("stage1", "stage2")) {
            DurableFiles.deleteTree(dir.resolve(sub));
        }
        Files.deleteIfExists(runJson);
        Files.createDirectories(dir);
        NvlmConfig config = Presets.get(WorldExperiment.PRESET, arch).withTaggedMemory(tagged).withTagsInSequence(seqTags);
        WorldExperiment.Start start = new WorldExperiment.Start(backbones, trainWorld);
        DataSpec data = start.data(r.questions());
        var options = WorldExperiment.stageOptions(progress.mode, log);
        Map<String, Object> throughput = new LinkedHashMap<>();
        Nvlm model;
        if (base == null) {
            log.printf(Locale.ROOT, "%n== NVLM-%s, seed %d: stage 1 %d steps (peak lr %.2g), stage 2 %d steps (peak lr %.2g)%n", arch,
                    seed, r.stage1().totalSteps(), r.stage1().peakLr(), stage2.totalSteps(), stage2.peakLr());
            model = start.model(config, seed);
            Demo.train(model, r.stage1(), data, config, options, dir.resolve("stage1"));
            throughput.put("stage1", throughput(dir.resolve("stage1")));
        } else {
            Path stage1 = base.dir().resolve("stage1").resolve("model");
            log.printf(Locale.ROOT, "%n== NVLM-%s, seed %d, LLM frozen: stage 2 %d steps (peak lr %.2g) from %s%n", arch, seed,
                    stage2.totalSteps(), stage2.peakLr(), stage1);
            model = Checkpoint.load(stage1, Device.CPU);
            throughput.put("stage1", throughputOf(base, "stage1"));
        }
        Demo.train(model, stage2, data, config, options, dir.resolve("stage2"));
        throughput.put("stage2", throughput(dir.resolve("stage2")));

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("architecture", arch.name());
        json.put("seed", seed);
        json.put("world_seed", trainWorld);
        json.put("backbones", backbones.toAbsolutePath().toString());
        json.put("backbones_sha256", backbonesId);
        if (base != null) {
            json.put("stage1_from", base.dir().toAbsolutePath().toString());
        }
        json.put("recipe", stages);
        json.put("throughput", throughput);
        json.put("evaluations", new LinkedHashMap<>());
        WorldExperiment.writeAtomically(runJson, Json.writePretty(json) + "\n");
        return new Run(arch, seed, dir, json);
    }

    @SuppressWarnings("unchecked")
    private static Object throughputOf(Run run, String stage) {
        return ((Map<String, Object>) run.json().get("throughput")).get(stage);
    }

    /** Samples/s, tokens/s and tokens per sample of a stage, from its metrics (every step's samples over its seconds). */
    static Map<String, Object> throughput(Path runDir) throws IOException {
        TrainingReport.StageRun.Totals t = TrainingReport.StageRun.fromRunFolder(runDir.toString(), runDir, null).totals();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("samples_per_s", t.samples() / t.seconds());
        m.put("tokens_per_s", t.tokens() / t.seconds());
        m.put("tokens_per_sample", (double) t.tokens() / t.samples());
        m.put("seconds", t.seconds());
        return m;
    }

    /**
     * The run's model evaluated on this command's split and world, cached in its run.json under a
     * key naming the split, the world and the example counts (family to [correct, total]).
     */
    @SuppressWarnings("unchecked")
    EvalResult evaluated(Run run, long evalWorld, PrintStream log) throws IOException {
        DemoRecipe r = recipe.recipe(run.arch(), run.seed());
        String key = split.id() + "/world" + evalWorld + "/" + r.evalSamples() + "+" + r.textEvalSamples();
        Map<String, Object> evaluations = (Map<String, Object>) run.json().computeIfAbsent("evaluations", k -> new LinkedHashMap<>());
        if (evaluations.get(key) instanceof Map<?, ?> cached) {
            List<FamilyScore> scores = new ArrayList<>();
            cached.forEach((f, v) -> {
                List<?> counts = (List<?>) v;
                scores.add(new FamilyScore((String) f, ((Number) counts.get(0)).intValue(), ((Number) counts.get(1)).intValue()));
            });
            return new EvalResult(scores, List.of());
        }
        NvlmConfig config = Presets.get(WorldExperiment.PRESET, run.arch());
        Nvlm model = Checkpoint.load(run.dir().resolve("stage2").resolve("model"), Device.CPU);
        SampleEncoder encoder = WorldStage.encoder(config, SampleEncoder.Options.defaults());
        SyntheticWorld world = new SyntheticWorld(WorldConfig.forModel(config, evalWorld));
        Map<String, List<Example>> examples = Evaluation.worldExamples(world, split, r.evalSamples(), r.textEvalSamples(), View.IMAGE,
                encoder.tagMode());
        EvalResult result = Evaluation.run(model, encoder, examples, Evaluation.MAX_NEW_TOKENS, progress.mode, log);
        log.printf(Locale.ROOT, "%s seed %d on %s (world %d): %s%n", run.arch(), run.seed(), split.id(), evalWorld,
                result.accuracies());
        Map<String, Object> counts = new LinkedHashMap<>();
        result.scores().forEach(sc -> counts.put(sc.family(), List.of((long) sc.correct(), (long) sc.total())));
        evaluations.put(key, counts);
        WorldExperiment.writeAtomically(run.dir().resolve(RUN_JSON), Json.writePretty(run.json()) + "\n");
        return result;
    }

    private Map<String, Object> json(Map<Architecture, List<EvalResult>> results, Map<Architecture, List<Run>> runs, long evalWorld,
                                     DemoRecipe r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("split", split.id());
        m.put("world_seed", evalWorld);
        m.put("seeds", new ArrayList<>(seeds));
        m.put("tagged_memory", taggedMemory);
        m.put("tags_in_sequence", tagsInSequence);
        m.put("examples", Map.of("image", (long) r.evalSamples(), "text", (long) r.textEvalSamples()));
        for (Architecture arch : results.keySet()) {
            Map<String, Object> a = accuracyJson(results.get(arch), families(results.values()));
            a.put("throughput", Map.of(
                    "stage2_samples_per_s", SeedStats.of(stat(runs.get(arch), "stage2", "samples_per_s")).toJson(),
                    "stage2_tokens_per_sample", SeedStats.of(stat(runs.get(arch), "stage2", "tokens_per_sample")).toJson(),
                    "stage1_samples_per_s", SeedStats.of(stat(runs.get(arch), "stage1", "samples_per_s")).toJson()));
            m.put(arch.name().toLowerCase(Locale.ROOT), a);
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    private static List<Double> stat(List<Run> runs, String stage, String key) {
        List<Double> out = new ArrayList<>();
        for (Run r : runs) {
            Map<String, Object> t = (Map<String, Object>) ((Map<String, Object>) r.json().get("throughput")).get(stage);
            out.add(((Number) t.get(key)).doubleValue());
        }
        return out;
    }

    /** Accuracy over seeds: each family, then "image_mean" and "text_mean", each {mean, sd, n}. */
    static Map<String, Object> accuracyJson(List<EvalResult> results, List<String> families) {
        Map<String, Object> a = new LinkedHashMap<>();
        for (String family : families) {
            a.put(family, accuracy(results, family).toJson());
        }
        a.put("image_mean", SeedStats.of(results.stream().map(EvalResult::imageAccuracy).toList()).toJson());
        a.put("text_mean", SeedStats.of(results.stream().map(EvalResult::textOnlyAccuracy).toList()).toJson());
        return a;
    }

    /** The table's accuracy columns, headed as {@link #accuracyCells} fills them. */
    static String accuracyHeader(List<String> families) {
        StringBuilder sb = new StringBuilder();
        for (String f : families) {
            sb.append(String.format(Locale.ROOT, "  %15s", f));
        }
        return sb.append(String.format(Locale.ROOT, "  %15s  %15s", "image mean", "text mean")).toString();
    }

    /** One row's accuracy cells: each family, the image mean and the text mean, as mean +- sd over the seeds. */
    static String accuracyCells(List<EvalResult> results, List<String> families) {
        StringBuilder sb = new StringBuilder();
        for (String f : families) {
            sb.append(String.format(Locale.ROOT, "  %15s", accuracy(results, f).percent()));
        }
        return sb.append(String.format(Locale.ROOT, "  %15s  %15s", SeedStats.of(results.stream().map(EvalResult::imageAccuracy).toList())
                .percent(), SeedStats.of(results.stream().map(EvalResult::textOnlyAccuracy).toList()).percent())).toString();
    }

    private static SeedStats accuracy(List<EvalResult> results, String family) {
        return SeedStats.of(results.stream().map(e -> e.accuracies().getOrDefault(family, Double.NaN)).toList());
    }

    /** The evaluated families: image families first, then the text-only ones, each sorted. */
    static List<String> families(Collection<? extends List<EvalResult>> results) {
        TreeSet<String> image = new TreeSet<>();
        TreeSet<String> text = new TreeSet<>();
        results.forEach(list -> list.forEach(e -> e.accuracies().keySet().forEach(f -> (f.startsWith("text_") ? text : image).add(f))));
        List<String> out = new ArrayList<>(image);
        out.addAll(text);
        return out;
    }

    private String table(Map<Architecture, List<EvalResult>> results, Map<Architecture, List<Run>> runs, long evalWorld, DemoRecipe r) {
        List<String> families = families(results.values());
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s split of world %d, exact match, mean +- sd over %d seed(s) %s; %d examples per image"
                + " family, %d per text family%n", split.id(), evalWorld, seeds.size(), seeds, r.evalSamples(), r.textEvalSamples()));
        sb.append(String.format(Locale.ROOT, "%-6s", "arch"));
        sb.append(accuracyHeader(families));
        sb.append(String.format(Locale.ROOT, "  %9s  %10s%n", "samples/s", "tok/sample"));
        double dRate = Double.NaN;
        for (Architecture arch : results.keySet()) {
            List<EvalResult> list = results.get(arch);
            sb.append(String.format(Locale.ROOT, "%-6s", "NVLM-" + arch));
            sb.append(accuracyCells(list, families));
            double rate = SeedStats.of(stat(runs.get(arch), "stage2", "samples_per_s")).mean();
            if (arch == Architecture.D) {
                dRate = rate;
            }
            sb.append(String.format(Locale.ROOT, "  %9.1f  %10.0f%n", rate,
                    SeedStats.of(stat(runs.get(arch), "stage2", "tokens_per_sample")).mean()));
        }
        if (!Double.isNaN(dRate)) {
            for (Architecture arch : results.keySet()) {
                if (arch != Architecture.D) {
                    double ratio = SeedStats.of(stat(runs.get(arch), "stage2", "samples_per_s")).mean() / dRate;
                    sb.append(String.format(Locale.ROOT, "training samples/s %s/D = %.2f (paper, 34B on 128 H100s: %.2f)%n", arch, ratio,
                            arch == Architecture.X ? PAPER_X_OVER_D : PAPER_H_OVER_D));
                }
            }
        }
        return sb.toString();
    }
}
