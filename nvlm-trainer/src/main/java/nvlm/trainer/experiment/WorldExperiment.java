package nvlm.trainer.experiment;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.model.Nvlm;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.tensor.io.DurableFiles;
import nvlm.tensor.io.Json;
import nvlm.trainer.backbone.Backbones;
import nvlm.trainer.cli.DemoRecipeOptions;
import nvlm.trainer.cli.ProgressOption;
import nvlm.trainer.cli.SeedOption;
import nvlm.trainer.data.Example;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.WorldConfig;
import nvlm.trainer.eval.EvalResult;
import nvlm.trainer.eval.Evaluation;
import nvlm.trainer.pipeline.DataSpec;
import nvlm.trainer.recipe.DemoRecipe;
import nvlm.trainer.train.Evaluator;
import nvlm.trainer.train.ProgressBar;
import nvlm.trainer.train.TrainerOptions;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What the training experiments share ({@code tile-tags}, {@code text-mix}): NVLM-D at the tiny
 * preset on the synthetic world, every run starting from the same backbones (stage 0) with the
 * demo's recipe ({@link DemoRecipe#of}) at the chosen step counts, the test split evaluated by
 * exact match, and the results in {@value #RESULTS} of the run folder.
 *
 * @param name        the experiment's name ({@code ./nvlm experiment <name>})
 * @param backbones   the backbones folder, or null for the ones shipped with the build
 * @param recipe      stages 1 and 2 and the evaluation's sample counts
 * @param seed        seed of the new weights (projector) and of the stages' data order
 * @param out         the run folder
 * @param progress    how training and evaluation progress is shown
 * @param json        print one JSON object of the figures on stdout
 * @param log         where tables, messages and progress go (stderr when stdout carries the JSON)
 */
public record WorldExperiment(String name, Path backbones, DemoRecipe recipe, long seed, Path out, ProgressBar.Mode progress,
                              boolean json, PrintStream log) {
    public static final String PRESET = "tiny";
    public static final Architecture ARCH = Architecture.D;
    public static final String RESULTS = "results.json";
    /** Written first into the run folder: what ran, and the mark that lets a later run reuse the folder. */
    public static final String EXPERIMENT_JSON = "experiment.json";

    /**
     * The options of a world experiment ({@code @Mixin}), defaults the demo's, and how its command
     * runs: the settings to {@link Report#run}, then with --json its object on stdout.
     */
    public static final class Options {
        private final String name;
        @Mixin
        DemoRecipeOptions recipe;
        @Mixin
        SeedOption seed;
        @Option(names = "--out", paramLabel = "DIR", description = "run folder (default ${DEFAULT-VALUE}): one run folder per"
                + " stage, " + RESULTS + ", " + EXPERIMENT_JSON + ". A folder an earlier run of the experiment wrote is reused")
        Path out;
        @Mixin
        ProgressOption progress;
        @Option(names = "--json", description = "print one JSON object of the figures on stdout (the table goes to stderr)")
        boolean json;

        /** Defaults: the demo's, but {@code textSamples} test examples per text-only family. */
        Options(String name, int textSamples) {
            this.name = name;
            this.recipe = new DemoRecipeOptions(textSamples);
            this.seed = new SeedOption();
            this.out = Path.of("runs", "experiment-" + name);
        }

        WorldExperiment settings() {
            return new WorldExperiment(name, recipe.backbones, recipe.recipe(ARCH, seed.seed), seed.seed, out, progress.mode, json,
                    json ? System.err : System.out);
        }

        /** Runs {@code report} with these settings; with --json prints its object on stdout. */
        int run(Report report) throws IOException {
            Map<String, Object> figures = report.run(settings());
            if (json) {
                System.out.println(Json.write(figures));
            }
            return 0;
        }
    }

    /** What an experiment does once its options are parsed: run, print its table, return its JSON object. */
    interface Report {
        Map<String, Object> run(WorldExperiment w) throws IOException;
    }

    /** The tiny NVLM-D config every run starts from (the preset's tiling; an experiment may change it). */
    public NvlmConfig config() {
        return Presets.get(PRESET, ARCH);
    }

    /**
     * Prepares the run folder (a fresh one, or one an earlier run of this experiment wrote: its
     * {@code runFolders} and results are removed; anything else is refused) and finds the backbones.
     */
    public Start start(List<String> runFolders) throws IOException {
        if (Files.isDirectory(out)) {
            boolean empty;
            try (var list = Files.list(out)) {
                empty = list.findAny().isEmpty();
            }
            if (!empty && !Files.exists(out.resolve(EXPERIMENT_JSON))) {
                throw new IllegalArgumentException(out + " exists and is not an experiment folder (no " + EXPERIMENT_JSON
                        + "); choose another --out");
            }
            for (String sub : runFolders) {
                DurableFiles.deleteTree(out.resolve(sub));
            }
            Files.deleteIfExists(out.resolve(RESULTS));
        }
        Files.createDirectories(out);
        Path from = backbones != null ? backbones : Backbones.extractShipped(out.resolve("backbones"));
        long worldSeed = Backbones.worldSeed(from, seed);
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("experiment", name);
        settings.put("architecture", ARCH.name());
        settings.put("preset", PRESET);
        settings.put("seed", seed);
        settings.put("world_seed", worldSeed);
        settings.put("backbones", from.toAbsolutePath().toString());
        settings.put("recipe", recipe.toJson());
        writeAtomically(out.resolve(EXPERIMENT_JSON), Json.writePretty(settings) + "\n");
        log.printf(Locale.ROOT, "experiment %s: NVLM-%s, preset %s, seed %d; backbones %s (world seed %d); stage 1 %d steps,"
                        + " stage 2 %d steps; %d test examples per image family, %d per text family%n", name, ARCH, PRESET, seed,
                backbones != null ? from : "shipped with this build", worldSeed, recipe.stage1().totalSteps(),
                recipe.stage2().totalSteps(), recipe.evalSamples(), recipe.textEvalSamples());
        return new Start(from, worldSeed);
    }

    /** The backbones every run starts from, and the world they were pretrained on. */
    public record Start(Path backbones, long worldSeed) {
        /** A fresh model of {@code config}: new weights from {@code seed}, then the backbones' vision encoder and LLM. */
        public Nvlm model(NvlmConfig config, long seed) throws IOException {
            Nvlm model = Nvlm.create(config, new SplittableRandom(seed));
            Backbones.load(model, backbones, backbones);
            return model;
        }

        public SyntheticWorld world(NvlmConfig config) {
            return new SyntheticWorld(WorldConfig.forModel(config, worldSeed));
        }

        /** The world as the demo trains on it: {@code questions} answers per training picture. */
        public DataSpec data(int questions) {
            return DataSpec.world(worldSeed, questions);
        }
    }

    /** Trainer options of every stage: progress to {@link #log}, one checkpoint kept, {@code evaluator} at the end (or null). */
    TrainerOptions trainerOptions(Evaluator evaluator) {
        return stageOptions(progress, log).withEvaluator(evaluator, 0);
    }

    /**
     * Trainer options of an experiment's stage: progress to {@code log}, a checkpoint only at the end
     * and no Ctrl-C checkpoint (an experiment is not resumed, it is rerun).
     */
    static TrainerOptions stageOptions(ProgressBar.Mode progress, PrintStream log) {
        return TrainerOptions.defaults().withCheckpointEvery(0).withKeepCheckpoints(1).withProgress(progress, log, 0)
                .withInterruptHandling(false);
    }

    /** Writes {@value #RESULTS} (temp file, then rename) and returns its path. */
    Path writeResults(Map<String, ?> results) throws IOException {
        Path file = out.resolve(RESULTS);
        writeAtomically(file, Json.writePretty(new LinkedHashMap<>(results)) + "\n");
        return file;
    }

    static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Family to accuracy, then {@code meanKey} to the mean of the image families (image) or of the text-only ones. */
    static Map<String, Object> accuracies(EvalResult r, String meanKey, boolean imageMean) {
        Map<String, Object> m = new LinkedHashMap<>(r.accuracies());
        m.put(meanKey, imageMean ? r.imageAccuracy() : r.textOnlyAccuracy());
        return m;
    }

    /** A table: one row per run, one column per evaluated family, then the means. */
    static String table(String firstColumn, Map<String, String> labels, Map<String, EvalResult> results, boolean imageMean,
                        boolean textMean) {
        int width = firstColumn.length();
        for (String label : labels.values()) {
            width = Math.max(width, label.length());
        }
        List<String> families = List.copyOf(results.values().iterator().next().accuracies().keySet());
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-" + width + "s", firstColumn));
        for (String f : families) {
            sb.append(String.format(Locale.ROOT, "  %" + Math.max(7, f.length()) + "s", f));
        }
        if (imageMean) {
            sb.append("  image mean");
        }
        if (textMean) {
            sb.append("  text mean");
        }
        sb.append('\n');
        for (var e : results.entrySet()) {
            sb.append(String.format(Locale.ROOT, "%-" + width + "s", labels.get(e.getKey())));
            Map<String, Double> acc = e.getValue().accuracies();
            for (String f : families) {
                sb.append(String.format(Locale.ROOT, "  %" + Math.max(7, f.length()) + "s", percent(acc.getOrDefault(f, Double.NaN))));
            }
            if (imageMean) {
                sb.append(String.format(Locale.ROOT, "  %10s", percent(e.getValue().imageAccuracy())));
            }
            if (textMean) {
                sb.append(String.format(Locale.ROOT, "  %9s", percent(e.getValue().textOnlyAccuracy())));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    static String percent(double accuracy) {
        return Double.isNaN(accuracy) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * accuracy);
    }

    /** Exact match on {@code examples} ({@link Evaluation#run}) with progress, and how many and how long in the log. */
    EvalResult evaluate(Nvlm model, SampleEncoder encoder, Map<String, List<Example>> examples) {
        long start = System.nanoTime();
        EvalResult r = Evaluation.run(model, encoder, examples, Evaluation.MAX_NEW_TOKENS, progress, log);
        log.printf(Locale.ROOT, "evaluated %d test examples in %.1f s%n", examples.values().stream().mapToInt(List::size).sum(),
                (System.nanoTime() - start) / 1e9);
        return r;
    }
}
