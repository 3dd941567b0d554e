package nvlm.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import nvlm.tensor.io.DurableFiles;
import nvlm.tensor.io.Json;
import nvlm.trainer.cli.OptionTypes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./nvlm bench stage0}: seconds per step of stage 0's decoder training in fresh JVMs, for
 * step counts that once ran at two speeds. {@code --text-steps 10000} was the reproducer of the
 * "slow state" (every step 2.4x slower, the attention tile kernel's vectors boxed by a late C2
 * compilation; docs/results.md "The stage-0 slow state"); 12000 ran at the normal speed. Each
 * launch is its own JVM, because the state is decided by the JIT at start-up.
 */
@Command(name = "stage0", header = "stage 0's seconds per step in fresh JVMs, for the step counts that once ran at two speeds",
        description = """
                Starts `pretrain-backbones --seed S --text-steps N --vision-steps 1 --eval-samples 0` in a fresh JVM
                for each N of --text-steps (launches interleaved: N1, N2, N1, N2, ...), reads its metrics.jsonl
                and stops it after --skip + --steps decoder steps. Only the step count differs between the
                configurations (it changes the learning-rate schedule, hence the values, and the order of the
                first batches). Prints one JSON line per launch on stdout:
                  {"text_steps":..,"launch":..,"steps":..,"median_s_per_step":..,"tokens_per_s":..}
                and a table per configuration (median of the launches' medians, and their range) on stderr.""")
final class Stage0Bench implements Callable<Integer> {
    @Option(names = "--text-steps", paramLabel = "N", split = ",", converter = OptionTypes.AtLeastOne.class,
            description = "the configurations: stage 0's total decoder steps (default ${DEFAULT-VALUE}: the old reproducer and the"
                    + " normal run)")
    List<Integer> configurations = List.of(10000, 12000);
    @Option(names = "--launches", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "fresh JVMs per configuration (default ${DEFAULT-VALUE})")
    int launches = 2;
    @Option(names = "--skip", paramLabel = "N", converter = OptionTypes.NonNegative.class,
            description = "first decoder steps left out (JIT warm-up) (default ${DEFAULT-VALUE})")
    int skip = 30;
    @Option(names = "--steps", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "decoder steps timed after them (default ${DEFAULT-VALUE})")
    int steps = 100;
    @Option(names = "--seed", paramLabel = "S", description = "stage 0's seed (default ${DEFAULT-VALUE})")
    long seed = 1;
    @Option(names = "--jvm-option", paramLabel = "OPT",
            description = "an extra option for the child JVMs (repeatable), e.g. -XX:CompileCommand=...")
    List<String> jvmOptions = new ArrayList<>();
    @Option(names = "--timeout", paramLabel = "SECONDS", converter = OptionTypes.AtLeastOne.class,
            description = "give up on a launch after this long (default ${DEFAULT-VALUE})")
    int timeoutSeconds = 600;

    record Launch(int textSteps, int launch, int steps, double medianSeconds, double tokensPerSecond) {
    }

    @Override
    public Integer call() throws Exception {
        List<Launch> results = new ArrayList<>();
        for (int launch = 1; launch <= launches; launch++) {
            for (int textSteps : configurations) {
                if (textSteps < skip + steps) {
                    throw new IllegalArgumentException("--text-steps " + textSteps + " is below --skip + --steps = "
                            + (skip + steps) + ": the run would end before the timed steps");
                }
                Launch result = launch(textSteps, launch);
                results.add(result);
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("text_steps", textSteps);
                line.put("launch", launch);
                line.put("steps", result.steps());
                line.put("median_s_per_step", result.medianSeconds());
                line.put("tokens_per_s", result.tokensPerSecond());
                System.out.println(Json.write(line));
                System.out.flush();
            }
        }
        System.err.println();
        System.err.println("| --text-steps | launches | median s/step (median of launches) | range | tokens/s |");
        System.err.println("| --- | --- | --- | --- | --- |");
        for (int textSteps : configurations) {
            double[] medians = results.stream().filter(r -> r.textSteps() == textSteps)
                    .mapToDouble(Launch::medianSeconds).sorted().toArray();
            double[] tokens = results.stream().filter(r -> r.textSteps() == textSteps)
                    .mapToDouble(Launch::tokensPerSecond).toArray();
            System.err.printf(Locale.ROOT, "| %d | %d | %.3f | %.3f-%.3f | %.0f |%n", textSteps, medians.length,
                    Samples.median(medians), medians[0], medians[medians.length - 1], Samples.median(tokens));
        }
        return 0;
    }

    private Launch launch(int textSteps, int launch) throws IOException, InterruptedException {
        Path out = Files.createTempDirectory("nvlm-bench-stage0");
        Path metrics = out.resolve("run").resolve("text").resolve("metrics.jsonl");
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Xmx2g", "-XX:+UseParallelGC", "-Xss16m"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "nvlm.trainer.cli.Main",
                "pretrain-backbones", "--seed", Long.toString(seed), "--text-steps", Integer.toString(textSteps),
                "--vision-steps", "1", "--eval-samples", "0", "--progress", "off", "--out", out.resolve("run").toString()));
        Path log = out.resolve("child.log");
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        List<double[]> rows = List.of();
        try {
            while (true) {
                rows = readSteps(metrics);
                if (rows.size() >= skip + steps) {
                    break;
                }
                if (!child.isAlive()) {
                    throw new IllegalStateException("stage 0 (--text-steps " + textSteps + ") exited with status "
                            + child.exitValue() + " after " + rows.size() + " steps; its output: "
                            + tail(log));
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("stage 0 (--text-steps " + textSteps + ") made " + rows.size()
                            + " steps in " + timeoutSeconds + " s (--timeout), fewer than --skip + --steps = " + (skip + steps));
                }
                Thread.sleep(250);
            }
        } finally {
            child.destroyForcibly();
            child.waitFor();
            DurableFiles.deleteTree(out);
        }
        double[] seconds = rows.subList(skip, skip + steps).stream().mapToDouble(r -> r[0]).toArray();
        double[] tokens = rows.subList(skip, skip + steps).stream().mapToDouble(r -> r[1]).toArray();
        return new Launch(textSteps, launch, steps, Samples.median(seconds), Samples.median(tokens));
    }

    /** (seconds, tokens/s) of each training step logged so far, in step order; a line still being written is left out. */
    private static List<double[]> readSteps(Path metrics) throws IOException {
        if (!Files.exists(metrics)) {
            return List.of();
        }
        List<double[]> rows = new ArrayList<>();
        String text = Files.readString(metrics, StandardCharsets.UTF_8);
        int end = text.lastIndexOf('\n');
        if (end < 0) {
            return rows;
        }
        for (String line : text.substring(0, end).split("\n")) {
            Object parsed = Json.parse(line);
            if (parsed instanceof Map<?, ?> row && "train".equals(row.get("type"))) {
                rows.add(new double[] {((Number) row.get("seconds")).doubleValue(),
                        ((Number) row.get("tokens_per_s")).doubleValue()});
            }
        }
        return rows;
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
    }
}
