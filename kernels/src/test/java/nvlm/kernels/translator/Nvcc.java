package nvlm.kernels.translator;

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
     * Compiles every source ({@code file name -> CUDA C}) with {@code nvcc -arch=<arch> -ptx}. The
     * files are compiled as one translation unit, each inside its own namespace (which keeps them
     * as independent as separate files: nothing one defines is visible to another unqualified),
     * because nvcc's start-up cost per file dominates on a busy machine. Returns nvcc's
     * diagnostics when it fails (they name the offending file), else an empty list.
     */
    public static List<String> compileToPtx(Path nvcc, Map<String, String> sources, String arch, Path workDir)
            throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        StringBuilder unit = new StringBuilder();
        int id = 0;
        for (Map.Entry<String, String> source : sources.entrySet()) {
            Files.writeString(workDir.resolve(source.getKey()), source.getValue(), StandardCharsets.UTF_8);
            unit.append("namespace nvlm_k").append(id++).append(" {\n#include \"").append(source.getKey())
                    .append("\"\n}\n");
        }
        Files.writeString(workDir.resolve("all_kernels.cu"), unit.toString(), StandardCharsets.UTF_8);
        Path log = workDir.resolve("nvcc.log");
        Process process = new ProcessBuilder(nvcc.toString(), "-arch=" + arch, "-ptx", "all_kernels.cu", "-o",
                "all_kernels.ptx").directory(workDir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            return List.of("nvcc timed out compiling " + sources.size() + " kernels in " + workDir);
        }
        String output = Files.readString(log);
        List<String> failures = new ArrayList<>();
        if (process.exitValue() != 0) {
            failures.add("nvcc failed (exit " + process.exitValue() + ") in " + workDir + ":\n" + output);
        } else {
            String ptx = Files.readString(workDir.resolve("all_kernels.ptx"));
            for (String name : sources.keySet()) {
                String entry = name.replaceAll("\\.cu$", "");
                if (!ptx.contains(".entry " + entry + "(")) {
                    failures.add("the PTX has no entry point " + entry);
                }
            }
        }
        return failures;
    }
}
