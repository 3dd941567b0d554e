package nvlm.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import nvlm.kernels.Parallel;
import nvlm.model.config.Architecture;
import nvlm.tensor.Device;
import nvlm.tensor.io.DurableFiles;
import nvlm.tensor.io.Json;
import nvlm.trainer.cli.OptionTypes;
import nvlm.trainer.cli.ProgressOption;
import nvlm.trainer.experiment.ThroughputOptions;
import nvlm.trainer.experiment.TrainingThroughput;
import nvlm.trainer.train.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./nvlm bench train}: samples/s of a Java training step and of the PyTorch reference
 * (tests/reference/bench_train.py, eager, same model folder, same batch file, same thread count,
 * vision frozen in both) in one run, and their ratio.
 */
@Command(name = "train", header = "samples/s of a Java training step vs the PyTorch reference on the same model and batch",
        description = """
                Times full training steps (forward, loss, backward, AdamW; the vision encoder frozen) of one model
                on one batch (N rows, each a 6+1-tile image of the synthetic world) in Java, then the PyTorch
                reference of the same model folder on the same batch file, and prints one JSON line:
                {"java_samples_per_s":..,"torch_samples_per_s":..,"ratio":..} (ratio = java / torch).""")
final class TrainBench implements Callable<Integer> {
    @Option(names = "--arch", paramLabel = "A", defaultValue = "d", description = "d, x or h (default ${DEFAULT-VALUE})")
    Architecture arch;
    @Mixin
    ThroughputOptions timed;
    @Option(names = "--steps", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "timed steps; the median step counts (default ${DEFAULT-VALUE})")
    int steps = 5;
    @Option(names = "--warmup", paramLabel = "N", converter = OptionTypes.NonNegative.class,
            description = "untimed steps first (default ${DEFAULT-VALUE})")
    int warmup = 3;
    @Option(names = "--threads", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "PyTorch threads (default: this machine's cores, as the Java kernels use)")
    int threads = Parallel.threads();
    @Option(names = "--python", paramLabel = "P", description = "the interpreter with torch (default ${DEFAULT-VALUE})")
    String python = "/usr/bin/python3";
    @Mixin
    ProgressOption progress;

    @Override
    public Integer call() throws Exception {
        TrainingThroughput java = timed.model(arch);
        Path dir = Files.createTempDirectory("nvlm-bench-train");
        try {
            Path modelDir = dir.resolve("model");
            Path batchFile = dir.resolve("batch.safetensors");
            java.save(modelDir, batchFile);
            ProgressBar bar = ProgressBar.counting(System.err, progress.mode, "bench train", steps, "steps");
            TrainingThroughput.Result ours = java.measure(warmup, steps, bar::advanceTo);
            bar.finish();
            System.err.printf("java : %.4f s/step, %.3f samples/s (%d rows x %d tokens, %s %s)%n", ours.secondsPerStep(),
                    ours.samplesPerSecond(), ours.rows(), ours.tokensPerRow(), arch, timed.preset);
            Double torch = torchSamplesPerSecond(python, modelDir, batchFile, steps, warmup, threads, timed.device.device);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("java_samples_per_s", ours.samplesPerSecond());
            json.put("torch_samples_per_s", torch);
            json.put("ratio", torch == null ? null : ours.samplesPerSecond() / torch);
            json.put("arch", arch.name());
            json.put("preset", timed.preset);
            json.put("rows", (long) timed.rows);
            json.put("tokens_per_row", ours.tokensPerRow());
            System.out.println(Json.write(json));
            return 0;
        } finally {
            DurableFiles.deleteTree(dir);
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
}
