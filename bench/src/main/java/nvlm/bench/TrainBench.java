package nvlm.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
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
 * vision frozen in both) in one run, timed in interleaved rounds, and their ratio.
 */
@Command(name = "train", header = "samples/s of a Java training step vs the PyTorch reference on the same model and batch",
        description = """
                Times full training steps (forward, loss, backward, AdamW; the vision encoder frozen) of one model
                on one batch (N rows, each a 6+1-tile image of the synthetic world) in Java and in the PyTorch
                reference of the same model folder on the same batch file, interleaved: both warm up, then each
                round runs --steps steps of one side, then of the other (the side going first alternates), while
                the other side waits idle. The figure of each side is the median over all its timed steps;
                the spread is the ratio of the two sides' medians in each round. One JSON line:
                {"java_samples_per_s":..,"torch_samples_per_s":..,"ratio":..,"ratio_min":..,"ratio_max":..}
                (ratio = java / torch).""")
final class TrainBench implements Callable<Integer> {
    @Option(names = "--arch", paramLabel = "A", defaultValue = "d", description = "d, x or h (default ${DEFAULT-VALUE})")
    Architecture arch;
    @Mixin
    ThroughputOptions timed;
    @Option(names = "--steps", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "timed steps of each side per round (default ${DEFAULT-VALUE})")
    int steps = 3;
    @Option(names = "--rounds", paramLabel = "R", converter = OptionTypes.AtLeastOne.class,
            description = "interleaved rounds (default ${DEFAULT-VALUE})")
    int rounds = 5;
    @Option(names = "--warmup", paramLabel = "N", converter = OptionTypes.NonNegative.class,
            description = "untimed steps first, each side (default ${DEFAULT-VALUE}; Java adds more until its step times settle)")
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
        TorchPeer torch = null;
        try {
            Path modelDir = dir.resolve("model");
            Path batchFile = dir.resolve("batch.safetensors");
            java.save(modelDir, batchFile);
            torch = TorchPeer.start(python, modelDir, batchFile, warmup, threads, timed.device.device);
            java.warmUp(warmup);
            ProgressBar bar = ProgressBar.counting(System.err, progress.mode, "bench train", rounds, "rounds");
            double[] ours = new double[rounds * steps];
            double[] theirs = torch == null ? null : new double[rounds * steps];
            double[] roundRatios = new double[torch == null ? 0 : rounds];
            for (int r = 0; r < rounds; r++) {
                boolean javaFirst = r % 2 == 0;
                if (torch != null && !javaFirst) {
                    torch = timeTorch(torch, theirs, r);
                }
                for (int s = 0; s < steps; s++) {
                    ours[r * steps + s] = java.step();
                }
                if (torch != null && javaFirst) {
                    torch = timeTorch(torch, theirs, r);
                }
                if (torch != null) {
                    roundRatios[r] = Samples.median(Arrays.copyOfRange(theirs, r * steps, (r + 1) * steps))
                            / Samples.median(Arrays.copyOfRange(ours, r * steps, (r + 1) * steps));
                }
                bar.advanceTo(r + 1);
            }
            bar.finish();
            long rows = java.batch().rows();
            double javaSeconds = Samples.median(ours);
            double javaRate = rows / javaSeconds;
            System.err.printf("java : %.4f s/step, %.3f samples/s (%d rows x %d tokens, %s %s; median of %d steps in %d rounds)%n",
                    javaSeconds, javaRate, rows, java.batch().length(), arch, timed.preset, ours.length, rounds);
            Double torchRate = null;
            if (torch != null) {
                double torchSeconds = Samples.median(theirs);
                torchRate = rows / torchSeconds;
                System.err.printf("torch: %.4f s/step, %.3f samples/s (bench_train.py, %d threads)%n", torchSeconds, torchRate,
                        threads);
            }
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("java_samples_per_s", javaRate);
            json.put("torch_samples_per_s", torchRate);
            json.put("ratio", torchRate == null ? null : javaRate / torchRate);
            json.put("ratio_min", torchRate == null ? null : Arrays.stream(roundRatios).min().orElseThrow());
            json.put("ratio_max", torchRate == null ? null : Arrays.stream(roundRatios).max().orElseThrow());
            json.put("rounds", (long) rounds);
            json.put("steps_per_round", (long) steps);
            json.put("arch", arch.name());
            json.put("preset", timed.preset);
            json.put("rows", (long) timed.rows);
            json.put("tokens_per_row", java.batch().length());
            System.out.println(Json.write(json));
            return 0;
        } finally {
            if (torch != null) {
                torch.close();
            }
            DurableFiles.deleteTree(dir);
        }
    }

    /** Times this round's PyTorch steps into {@code into}; null (the peer dropped, reason on stderr) when it failed. */
    private TorchPeer timeTorch(TorchPeer torch, double[] into, int round) throws IOException {
        double[] seconds = torch.steps(steps);
        if (seconds == null) {
            torch.close();
            return null;
        }
        System.arraycopy(seconds, 0, into, round * steps, steps);
        return torch;
    }

    /** The reference in {@code --serve} mode: loaded and warmed up once, then K steps per request. */
    private static final class TorchPeer implements AutoCloseable {
        private final Process process;
        private final BufferedReader out;
        private final Writer in;

        private TorchPeer(Process process) {
            this.process = process;
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        }

        /** The peer, ready (loaded and warmed up), or null with the reason on stderr. */
        static TorchPeer start(String python, Path modelDir, Path batchFile, int warmup, int threads, Device device)
                throws IOException {
            Path script = Path.of(System.getProperty("nvlm.root", "."), "tests", "reference", "bench_train.py");
            if (!Files.isRegularFile(script)) {
                System.err.println("torch: reference script " + script + " not found (run through ./nvlm, which sets -Dnvlm.root)");
                return null;
            }
            List<String> command = new ArrayList<>(List.of(python, script.toString(), "--model", modelDir.toString(), "--batch",
                    batchFile.toString(), "--warmup", Integer.toString(warmup), "--threads", Integer.toString(threads),
                    "--freeze-vision", "--device", device == Device.CUDA ? "cuda" : "cpu", "--serve"));
            TorchPeer peer;
            try {
                peer = new TorchPeer(new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start());
            } catch (IOException e) {
                System.err.println("torch: cannot start " + python + ": " + e.getMessage());
                return null;
            }
            Map<String, Object> ready = peer.reply();
            if (ready == null || !Boolean.TRUE.equals(ready.get("ready"))) {
                System.err.println("torch: the reference did not start (" + (ready == null ? "no reply" : ready) + ")");
                peer.close();
                return null;
            }
            return peer;
        }

        /** Seconds of each of {@code k} steps, or null (reason on stderr). */
        double[] steps(int k) throws IOException {
            in.write(k + "\n");
            in.flush();
            Map<String, Object> reply = reply();
            if (reply == null || !(reply.get("seconds") instanceof List<?> list) || list.size() != k) {
                System.err.println("torch: the reference stopped answering (" + reply + ")");
                return null;
            }
            return list.stream().mapToDouble(v -> ((Number) v).doubleValue()).toArray();
        }

        private Map<String, Object> reply() throws IOException {
            String line = out.readLine();
            return line == null ? null : Json.parseObject(line);
        }

        @Override
        public void close() throws IOException {
            try {
                in.close();
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            } catch (IOException e) {
                process.destroyForcibly();
            }
        }
    }
}
