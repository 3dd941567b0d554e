package nvlm.trainer.experiment;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import nvlm.model.config.Architecture;
import nvlm.tensor.io.Json;
import nvlm.trainer.cli.OptionTypes;
import nvlm.trainer.cli.ProgressOption;
import nvlm.trainer.cli.UsageException;
import nvlm.trainer.train.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./nvlm experiment throughput}: training samples/s of NVLM-D, X and H with the same
 * settings and 6+1 tiles per image (the paper's Table 3: X 50.6, H 36.2, D 28.8 samples/s on
 * 128 H100s at 34B; cross-attention trains faster because image tokens stay out of the decoder).
 */
@Command(name = "throughput", header = "training samples/s of D, X and H at 6+1 tiles (paper Table 3)",
        description = """
                Times full training steps (forward, backward, AdamW; vision encoder frozen) of D, X and H on the
                same batch: N rows, each one 3x2-tile image + thumbnail (6+1 tiles) of the synthetic world.
                All three models are built and warmed up first, then timed in R interleaved rounds (D, X, H,
                D, X, H, ...) so that neither JIT warm-up nor machine load favours the one timed first.
                Prints a table of samples/s and, with --json, one object {"D":..,"X":..,"H":..} (samples/s).
                At the tiny preset the frozen vision encoder and the per-op costs weigh as much as the 4-layer,
                128-wide decoder, so taking image tokens out of the decoder saves little and the three train at
                about the same speed.""")
public final class ThroughputExperiment implements Callable<Integer> {
    @Mixin
    ThroughputOptions timed;
    @Option(names = "--steps", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "timed steps per architecture, the median counts (default ${DEFAULT-VALUE})")
    int steps = 12;
    @Option(names = "--rounds", paramLabel = "R", converter = OptionTypes.AtLeastOne.class,
            description = "rounds the timed steps are split into, at most --steps (default ${DEFAULT-VALUE})")
    int rounds = 3;
    @Option(names = "--warmup", paramLabel = "N", converter = OptionTypes.NonNegative.class,
            description = "untimed steps first, more until three in a row agree within 15%% (default ${DEFAULT-VALUE})")
    int warmup = 5;
    @Option(names = "--json", description = "print one JSON object of samples/s on stdout")
    boolean json;
    @Mixin
    ProgressOption progress;

    @Override
    public Integer call() {
        if (rounds > steps) {
            throw new UsageException("--rounds " + rounds + " is more than --steps " + steps);
        }
        Map<Architecture, TrainingThroughput> runs = new EnumMap<>(Architecture.class);
        for (Architecture arch : Architecture.values()) {
            System.err.printf("warming up %s (%s preset)...%n", arch, timed.preset);
            TrainingThroughput run = timed.model(arch);
            run.warmUp(warmup);
            runs.put(arch, run);
        }
        Map<Architecture, double[]> seconds = new EnumMap<>(Architecture.class);
        runs.keySet().forEach(arch -> seconds.put(arch, new double[steps]));
        ProgressBar bar = ProgressBar.counting(System.err, progress.mode, "timing", (long) steps * runs.size(), "steps");
        int timed = 0;
        for (int round = 0; round < rounds; round++) {
            int from = round * steps / rounds;
            int to = (round + 1) * steps / rounds;
            for (Architecture arch : Architecture.values()) {
                for (int s = from; s < to; s++) {
                    seconds.get(arch)[s] = runs.get(arch).step();
                    bar.advanceTo(++timed);
                }
            }
        }
        bar.finish();
        Map<String, Object> figures = new LinkedHashMap<>();
        System.err.printf("%-5s %10s %12s %12s%n", "arch", "tokens/row", "s/step", "samples/s");
        for (Architecture arch : Architecture.values()) {
            TrainingThroughput.Result r = runs.get(arch).result(seconds.get(arch));
            System.err.printf("%-5s %10d %12.4f %12.2f%n", arch, r.tokensPerRow(), r.secondsPerStep(), r.samplesPerSecond());
            figures.put(arch.name(), r.samplesPerSecond());
        }
        double d = (Double) figures.get("D");
        System.err.printf("X / D = %.2f, H / D = %.2f%n", (Double) figures.get("X") / d, (Double) figures.get("H") / d);
        if (json) {
            System.out.println(Json.write(figures));
        }
        return 0;
    }
}
