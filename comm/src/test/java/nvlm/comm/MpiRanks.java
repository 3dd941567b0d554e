package nvlm.comm;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts a main class as several ranks under mpirun, for tests: skips (with the reason) where
 * mpirun or libmpi is missing; each rank gets a small heap, since the machine is shared.
 */
public final class MpiRanks {
    /** What the ranks printed (stdout and stderr together) and mpirun's exit status. */
    public record Result(int exitCode, String output, double seconds) {
    }

    private MpiRanks() {
    }

    /** Skips the calling test unless mpirun and libmpi are here. */
    public static Path requireMpi() {
        var mpirun = MpiRun.mpirun();
        assumeTrue(mpirun.isPresent(), "no mpirun on PATH (apt-get install openmpi-bin libopenmpi-dev): multi-rank tests skipped");
        assumeTrue(CommLibraries.mpiAvailable(), "mpirun is here but libmpi.so.40 is not loadable: multi-rank tests skipped");
        return mpirun.get();
    }

    /** Runs {@code ranks} ranks of {@code mainClass} with {@code args}; kills them after {@code timeoutSeconds}. */
    public static Result run(int ranks, String mainClass, List<String> args, long timeoutSeconds) throws IOException,
            InterruptedException {
        Path mpirun = requireMpi();
        List<String> cmd = new ArrayList<>(List.of(mpirun.toString(), "-n", Integer.toString(ranks), "--oversubscribe",
                "--bind-to", "none", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        long start = System.nanoTime();
        Process p = pb.start();
        StringBuilder out = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                out.append("(reading the ranks' output failed: ").append(e).append(')');
            }
        });
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor();
            reader.join();
            throw new AssertionError(ranks + " ranks of " + mainClass + " did not finish within " + timeoutSeconds + " s:\n" + out);
        }
        reader.join();
        return new Result(p.exitValue(), out.toString(), (System.nanoTime() - start) / 1e9);
    }
}
