package nvlm.trainer.experiment;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import nvlm.model.config.Architecture;
import nvlm.tensor.io.Json;
import nvlm.trainer.cli.DemoRecipeOptions;
import nvlm.trainer.cli.ProgressOption;
import nvlm.trainer.data.Split;
import nvlm.trainer.eval.EvalResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./nvlm experiment frozen-llm}: the paper's Table 9 in miniature. For each seed, stage 2
 * of one architecture (NVLM-X by default) runs twice from the same stage-1 model: as the paper's
 * recipe (the LLM trains) and with the LLM frozen (only what stage 1 trains), then both are
 * evaluated on the image families and on the text-only ones. The paper reports that freezing the
 * LLM keeps text-only accuracy intact at a cost in the multimodal tasks.
 *
 * <p>The trained arm is the run {@code experiment compare} makes ({@code <out>/<arch>-seed<S>/}, reused
 * when the recipe matches); the frozen arm is {@code <out>/<arch>-seed<S>-frozen-llm/}.
 */
@Command(name = FrozenLlmExperiment.NAME,
        header = "SFT with the LLM frozen vs trained, from the same stage 1 (paper Table 9)",
        description = """
                For every seed of --seeds: stage 1 of the demo's recipe for --arch, then stage 2 twice from that stage-1 model,
                once as the recipe says (the LLM trains) and once with the LLM frozen (the projector and the cross-attention
                blocks train, as in stage 1); both evaluated on --split. Prints accuracy per family (mean +- sample standard
                deviation over the seeds) for each arm. With --json: {"arch":..,"split":..,"world_seed":..,"seeds":[..],
                "examples":{"image":n,"text":m},"llm_trained":{family:{"mean":..,"sd":..,"n":..},..},"llm_frozen":{..}}.
                Shares its run folders with ./nvlm experiment compare when --out is the same.""")
public final class FrozenLlmExperiment implements Callable<Integer> {
    static final String NAME = "frozen-llm";

    @Mixin
    DemoRecipeOptions recipe = new DemoRecipeOptions();
    @Option(names = "--arch", paramLabel = "A", description = "architecture (default ${DEFAULT-VALUE}, the paper's Table 9)")
    Architecture arch = Architecture.X;
    @Option(names = "--seeds", split = ",", paramLabel = "S,..", description = "seeds of stages 1 and 2 (default 1,2,3)")
    List<Long> seeds = List.of(1L, 2L, 3L);
    @Option(names = "--split", paramLabel = "SPLIT", description = "test or validation (default ${DEFAULT-VALUE})")
    Split split = Split.TEST;
    @Option(names = "--out", paramLabel = "DIR", description = "experiment folder (default ${DEFAULT-VALUE}, compare's)")
    Path out = Path.of("runs", "experiment-" + CompareExperiment.NAME);
    @Mixin
    ProgressOption progress;
    @Option(names = "--json", description = "print one JSON object of the figures on stdout (the table goes to stderr)")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintStream log = json ? System.err : System.out;
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException("--seeds needs at least one value");
        }
        CompareExperiment runs = new CompareExperiment();
        runs.recipe = recipe;
        runs.split = split;
        runs.out = out;
        runs.progress = progress;
        CompareExperiment.Setup start = runs.setup(arch, seeds.get(0));
        long world = start.world();

        Map<String, List<EvalResult>> arms = new LinkedHashMap<>();
        for (long seed : seeds) {
            for (boolean frozen : new boolean[] {false, true}) {
                CompareExperiment.Run run = runs.trained(arch, seed, frozen, start.backbones(), start.backbonesId(), world, log);
                arms.computeIfAbsent(frozen ? "llm_frozen" : "llm_trained", k -> new ArrayList<>()).add(runs.evaluated(run, world, log));
            }
        }
        var any = start.recipe();
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("arch", arch.name().toLowerCase(Locale.ROOT));
        figures.put("split", split.id());
        figures.put("world_seed", world);
        figures.put("seeds", new ArrayList<>(seeds));
        figures.put("examples", Map.of("image", (long) any.evalSamples(), "text", (long) any.textEvalSamples()));
        List<String> families = CompareExperiment.families(arms.values());
        arms.forEach((arm, results) -> figures.put(arm, CompareExperiment.accuracyJson(results, families)));
        log.println();
        log.printf(Locale.ROOT, "NVLM-%s, stage 2 with the LLM trained vs frozen; %s split of world %d, exact match, mean +- sd over"
                + " %d seed(s) %s; %d examples per image family, %d per text family%n", arch, split.id(), world, seeds.size(), seeds,
                any.evalSamples(), any.textEvalSamples());
        log.printf(Locale.ROOT, "%-12s%s%n", "LLM in SFT", CompareExperiment.accuracyHeader(families));
        arms.forEach((arm, results) -> log.printf(Locale.ROOT, "%-12s%s%n", arm.equals("llm_frozen") ? "frozen" : "trained",
                CompareExperiment.accuracyCells(results, families)));
        Path file = out.resolve(NAME + "-" + arch.name().toLowerCase(Locale.ROOT) + "-" + split.id() + ".json");
        WorldExperiment.writeAtomically(file, Json.writePretty(figures) + "\n");
        log.println("results: " + file);
        if (json) {
            System.out.println(Json.write(figures));
        }
        return 0;
    }
}
