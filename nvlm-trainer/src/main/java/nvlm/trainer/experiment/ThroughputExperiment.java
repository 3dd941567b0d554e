package nvlm.trainer.experiment;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import nvlm.model.Architecture;
import nvlm.tensor.Device;
import nvlm.tensor.io.Json;
import nvlm.trainer.cli.Args;

/**
 * {@code ./nvlm experiment throughput}: training samples/s of NVLM-D, X and H with the same
 * settings and 6+1 tiles per image (the paper's Table 3: X 50.6, H 36.2, D 28.8 samples/s on
 * 128 H100s at 34B; cross-attention trains faster because image tokens stay out of the decoder).
 */
public final class ThroughputExperiment implements Experiment {
    static final String USAGE = """
            usage: ./nvlm experiment throughput [--preset tiny|small] [--rows N] [--steps N] [--warmup N]
                                                [--seed S] [--device cpu|cuda] [--json]

            Times full training steps (forward, backward, AdamW; vision encoder frozen) of D, X and H on the
            same batch: N rows, each one 3x2-tile image + thumbnail (6+1 tiles) of the synthetic world.
            Prints a table of samples/s and, with --json, one object {"D":..,"X":..,"H":..} (samples/s).

              --preset P   model shapes (default tiny)
              --rows N     samples per step (default 2)
              --steps N    timed steps, the median counts (default 10)
              --warmup N   untimed steps first, for the JIT (default 5)
            """;

    @Override
    public String name() {
        return "throughput";
    }

    @Override
    public String summary() {
        return "training samples/s of D, X and H at 6+1 tiles (paper Table 3)";
    }

    @Override
    public int run(List<String> words) {
        Args args = Args.parse("experiment throughput", words, Set.of("preset", "rows", "steps", "warmup", "seed", "device"),
                Set.of("json", "help"));
        if (args.has("help")) {
            System.out.print(USAGE);
            return 0;
        }
        String preset = args.get("preset", "tiny");
        int rows = args.getInt("rows", 2);
        int steps = args.getInt("steps", 10);
        int warmup = args.getInt("warmup", 5);
        long seed = args.getLong("seed", 0);
        Device device = Device.parse(args.get("device", "cpu"));
        Map<String, Object> json = new LinkedHashMap<>();
        System.err.printf("%-5s %10s %12s %12s%n", "arch", "tokens/row", "s/step", "samples/s");
        for (Architecture arch : Architecture.values()) {
            TrainingThroughput.Result r = new TrainingThroughput(arch, preset, rows, seed, device).measure(warmup, steps);
            System.err.printf("%-5s %10d %12.4f %12.2f%n", arch, r.tokensPerRow(), r.secondsPerStep(), r.samplesPerSecond());
            json.put(arch.name(), r.samplesPerSecond());
        }
        double d = (Double) json.get("D");
        System.err.printf("X / D = %.2f, H / D = %.2f%n", (Double) json.get("X") / d, (Double) json.get("H") / d);
        if (args.has("json")) {
            System.out.println(Json.write(json));
        }
        return 0;
    }
}
