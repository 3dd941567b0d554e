package nvlm.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import nvlm.model.config.Architecture;
import nvlm.tensor.Device;
import nvlm.tensor.io.Json;
import nvlm.trainer.cli.Args;
import nvlm.trainer.experiment.TrainingThroughput;

/**
 * {@code ./nvlm bench train}: samples/s of a Java training step and of the PyTorch reference
 * (tests/reference/bench_train.py, eager, same model folder, same batch file, same thread count,
 * vision frozen in both) in one run, and their ratio.
 */
final class TrainBench implements Bench.Subcommand {
    private static final String USAGE = """
            usage: ./nvlm bench train [--arch d|x|h] [--preset tiny|small] [--rows N] [--steps N] [--warmup N]
                                      [--threads N] [--python PATH] [--device cpu|cuda]

            Times full training steps (forward, loss, backward, AdamW; the vision encoder frozen) of one model
            on one batch (N rows, each a 6+1-tile image of the synthetic world) in Java, then the PyTorch
            reference of the same model folder on the same batch file, and prints one JSON line:
            {"java_samples_per_s":..,"torch_samples_per_s":..,"ratio":..} (ratio = java / torch).

              --arch A      d, x or h (default d)
              --preset P    tiny or small (default small)
              --rows N      samples per step (default 2)
              --steps N     timed steps; the median step counts (default 5)
              --warmup N    untimed steps first (default 3)
              --threads N   PyTorch threads (default: this machine's cores, as the Java kernels use)
              --python P    the interpreter with torch (default /usr/bin/python3)
            """;

    @Override
    public String summary() {
        return "samples/s of a Java training step vs the PyTorch reference on the same model and batch";
    }

    @Override
    public int run(List<String> words) throws Exception {
        Args args = Args.parse("bench train", words, Set.of("arch", "preset", "rows", "steps", "warmup", "threads", "python",
                "device", "seed"), Set.of("help"));
        if (args.has("help")) {
            System.out.print(USAGE);
            return 0;
        }
        Architecture arch = Architecture.parse(args.get("arch", "d"));
        String preset = args.get("preset", "small");
        int rows = args.getInt("rows", 2);
        int steps = args.getInt("steps", 5);
        int warmup = args.getInt("warmup", 3);
        int threads = args.getInt("threads", nvlm.kernels.Parallel.threads());
        Device device = Device.parse(args.get("device", "cpu"));
        TrainingThroughput java = new TrainingThroughput(arch, preset, rows, args.getLong("seed", 0), device);
        Path dir = Files.createTempDirectory("nvlm-bench-train");
        try {
            Path modelDir = dir.resolve("model");
            Path batchFile = dir.resolve("batch.safetensors");
            java.save(modelDir, batchFile);
            TrainingThroughput.Result ours = java.measure(warmup, steps);
            System.err.printf("java : %.4f s/step, %.3f samples/s (%d rows x %d tokens, %s %s)%n", ours.secondsPerStep(),
                    ours.samplesPerSecond(), ours.rows(), ours.tokensPerRow(), arch, preset);
            Double torch = torchSamplesPerSecond(args.get("python", "/usr/bin/python3"), modelDir, batchFile, steps, warmup,
                    threads, device);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("java_samples_per_s", ours.samplesPerSecond());
            json.put("torch_samples_per_s", torch);
            json.put("ratio", torch == null ? null : ours.samplesPerSecond() / torch);
            json.put("arch", arch.name());
            json.put("preset", preset);
            json.put("rows", (long) rows);
            json.put("tokens_per_row", ours.tokensPerRow());
            System.out.println(Json.write(json));
            return 0;
        } finally {
            deleteRecursively(dir);
        }
    }

    /** The reference's samples/s, or null (with the reason on stderr) when it cannot run. */
    private static Double torchSamplesPerSecond(String python, Path modelDir, Path batchFile, int steps, int warmup, int threads,
                                                Device device) throws IOException, InterruptedException {
        Path script = Path.of(System.getProperty("nvlm.root", "."), "tests", "reference", "bench_train.py");
        if (!Files.isRegularFile(script)) {
            System.err.println("torch: reference script " + script + " not found (run through ./nvlm, which sets -Dnvlm.root)");
            return null;
        }
        List<String> command = new ArrayList<>(List.of(python, script.toString(), "--model", modelDir.toString(), "--batch",
                batchFile.toString(), "--steps", Integer.toString(steps), "--warmup", Integer.toString(warmup), "--threads",
                Integer.toString(threads), "--freeze-vision", "--device", device == Device.CUDA ? "cuda" : "cpu", "--json"));
        Process process;
        try {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            System.err.println("torch: cannot start " + python + ": " + e.getMessage());
            return null;
        }
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        int status = process.waitFor();
        if (status != 0 || out.isEmpty()) {
            System.err.println("torch: the reference failed (exit " + status + ")");
            return null;
        }
        String last = out.substring(out.lastIndexOf('\n') + 1);
        Object value = Json.parseObject(last).get("torch_samples_per_s");
        if (!(value instanceof Number n)) {
            System.err.println("torch: no torch_samples_per_s in " + last);
            return null;
        }
        System.err.printf("torch: %.3f samples/s (bench_train.py, %d threads)%n", n.doubleValue(), threads);
        return n.doubleValue();
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
