package nvlm.trainer.experiment;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import nvlm.model.config.Architecture;
import nvlm.tensor.Device;
import nvlm.tensor.io.Json;
import nvlm.trainer.cli.Args;
import nvlm.trainer.cli.UsageException;

/**
 * {@code ./nvlm experiment throughput}: training samples/s of NVLM-D, X and H with the same
 * settings and 6+1 tiles per image (the paper's Table 3: X 50.6, H 36.2, D 28.8 samples/s on
 * 128 H100s at 34B; cross-attention trains faster because image tokens stay out of the decoder).
 */
public final class ThroughputExperiment implements Experiment {
    static final String USAGE = """
            usage: ./nvlm experiment throughput [--preset small|tiny] [--rows N] [--steps N] [--rounds R]
                                                [--warmup N] [--seed S] [--device cpu|cuda] [--json]

            Times full training steps (forward, backward, AdamW; vision encoder frozen) of D, X and H on the
            same batch: N rows, each one 3x2-tile image + thumbnail (6+1 tiles) of the synthetic world.
            All three models are built and warmed up first, then timed in R interleaved rounds (D, X, H,
            D, X, H, ...) so that neither JIT warm-up nor machine load favours the one timed first.
            Prints a table of samples/s and, with --json, one object {"D":..,"X":..,"H":..} (samples/s).

              --preset P   model shapes (default small). At tiny the frozen vision encoder and the per-op
                           costs weigh as much as the 4-layer, 128-wide decoder, so taking image tokens
                           out of the decoder saves little and the three train at about the same speed.
              --rows N     samples per step (default 2)
              --steps N    timed steps per architecture, the median counts (default 12)
              --rounds R   rounds the timed steps are split into (default 3)
              --warmup N   untimed steps first, more until three in a row agree within 15% (default 5)
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
        String preset = args.get("preset", "small");
        int rows = args.getInt("rows", 2);
        int steps = args.getInt("steps", 12);
        int rounds = args.getInt("rounds", 3);
        int warmup = args.getInt("warmup", 5);
        long seed = args.getLong("seed", 0);
        Device device = Device.parse(args.get("device", "cpu"));
        if (steps < 1 || rounds < 1 || rounds > steps) {
            throw new UsageException("experiment throughput: --steps must be >= 1 and --rounds between 1 and --steps (got "
                    + steps + " and " + rounds + ")");
        }
        Map<Architecture, TrainingThroughput> runs = new EnumMap<>(Architecture.class);
        for (Architecture arch : Architecture.values()) {
            System.err.printf("warming up %s (%s preset)...%n", arch, preset);
            TrainingThroughput run = new TrainingThroughput(arch, preset, rows, seed, device);
            run.warmUp(warmup);
            runs.put(arch, run);
        }
        Map<Architecture, double[]> seconds = new EnumMap<>(Architecture.class);
        runs.keySet().forEach(arch -> seconds.put(arch, new double[steps]));
        for (int round = 0; round < rounds; round++) {
            int from = round * steps / rounds;
            int to = (round + 1) * steps / rounds;
            for (Architecture arch : Architecture.values()) {
                for (int s = from; s < to; s++) {
                    seconds.get(arch)[s] = runs.get(arch).step();
                }
            }
        }
        Map<String, Object> json = new LinkedHashMap<>();
        System.err.printf("%-5s %10s %12s %12s%n", "arch", "tokens/row", "s/step", "samples/s");
        for (Architecture arch : Architecture.values()) {
            TrainingThroughput.Result r = runs.get(arch).result(seconds.get(arch));
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
