package nvlm.kernels.hat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Runs the nvcc installed on this machine (tests skip, with a reason, where there is none). */
public final class Nvcc {
    private Nvcc() {
    }

    /** nvcc from {@code NVCC}, {@code /usr/local/bin}, {@code $CUDA_HOME/bin}, {@code /usr/local/cuda/bin} or the PATH. */
    public static Optional<Path> find() {
        List<String> candidates = new ArrayList<>();
        if (System.getenv("NVCC") != null) {
            candidates.add(System.getenv("NVCC"));
        }
        candidates.add("/usr/local/bin/nvcc");
        if (System.getenv("CUDA_HOME") != null) {
            candidates.add(System.getenv("CUDA_HOME") + "/bin/nvcc");
        }
        candidates.add("/usr/local/cuda/bin/nvcc");
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            candidates.add(dir + "/nvcc");
        }
        return candidates.stream().map(Path::of).filter(Files::isExecutable).findFirst();
    }

    /**
     * Compiles each source ({@code file name -> CUDA C}) with {@code nvcc -arch=<arch> -ptx}, in a
     * few batches. Returns the diagnostics of every failing file (empty when all compile).
     */
    public static List<String> compileToPtx(Path nvcc, Map<String, String> sources, String arch, Path workDir)
            throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        List<String> names = new ArrayList<>(sources.keySet());
        for (String name : names) {
            Files.writeString(workDir.resolve(name), sources.get(name), StandardCharsets.UTF_8);
        }
        int batches = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), names.size() / 4));
        List<Process> processes = new ArrayList<>();
        List<List<String>> batchNames = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            List<String> batch = new ArrayList<>();
            for (int i = b; i < names.size(); i += batches) {
                batch.add(names.get(i));
            }
            if (batch.isEmpty()) {
                continue;
            }
            List<String> command = new ArrayList<>(List.of(nvcc.toString(), "-arch=" + arch, "-ptx"));
            command.addAll(batch);
            batchNames.add(batch);
            processes.add(new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                    .redirectOutput(workDir.resolve("nvcc-" + b + ".log").toFile()).start());
        }
        List<String> failures = new ArrayList<>();
        for (int b = 0; b < processes.size(); b++) {
            Process process = processes.get(b);
            if (!process.waitFor(10, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                failures.add("nvcc timed out on " + batchNames.get(b));
                continue;
            }
            String log = Files.readString(workDir.resolve("nvcc-" + b + ".log"));
            if (process.exitValue() != 0) {
                failures.add("nvcc failed on " + batchNames.get(b) + ":\n" + log);
            }
            for (String name : batchNames.get(b)) {
                Path ptx = workDir.resolve(name.replaceAll("\\.cu$", ".ptx"));
                if (process.exitValue() == 0 && !Files.isRegularFile(ptx)) {
                    failures.add("nvcc produced no " + ptx.getFileName());
                }
            }
        }
        return failures;
    }
}
