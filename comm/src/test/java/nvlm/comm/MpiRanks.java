package nvlm.comm;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
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

    /** Starts {@code ranks} ranks of {@code mainClass} with {@code args}; stdout and stderr go to {@code log}. */
    public static Process start(int ranks, String mainClass, List<String> args, Path log) throws IOException {
        Path mpirun = requireMpi();
        List<String> cmd = new ArrayList<>(List.of(mpirun.toString(), "-n", Integer.toString(ranks), "--oversubscribe",
                "--bind-to", "none", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx768m", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        return pb.start();
    }

    /** Waits for mpirun, killing it and its ranks after {@code timeoutSeconds}; returns what they printed. */
    public static Result await(Process p, Path log, long timeoutSeconds, long startNanos) throws IOException, InterruptedException {
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor();
            throw new AssertionError("mpirun did not finish within " + timeoutSeconds + " s:\n" + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log), (System.nanoTime() - startNanos) / 1e9);
    }

    /** Runs {@code ranks} ranks of {@code mainClass} with {@code args}; kills them after {@code timeoutSeconds}. */
    public static Result run(int ranks, String mainClass, List<String> args, long timeoutSeconds) throws IOException,
            InterruptedException {
        Path log = Files.createTempFile("nvlm-mpi-", ".log");
        try {
            long start = System.nanoTime();
            return await(start(ranks, mainClass, args, log), log, timeoutSeconds, start);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** Waits up to {@code timeoutNanos} for {@code rank} to end; true when it has. */
    public static boolean awaitExit(ProcessHandle rank, long timeoutNanos) throws InterruptedException {
        try {
            rank.onExit().get(timeoutNanos, TimeUnit.NANOSECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return !rank.isAlive();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The process ids of the ranks mpirun {@code p} started, by rank (from their environment). */
    public static java.util.Map<Integer, ProcessHandle> ranks(Process p) {
        java.util.Map<Integer, ProcessHandle> out = new java.util.TreeMap<>();
        p.descendants().forEach(h -> {
            try {
                String env = Files.readString(Path.of("/proc", Long.toString(h.pid()), "environ"));
                for (String entry : env.split("\0")) {
                    if (entry.startsWith("OMPI_COMM_WORLD_RANK=")) {
                        out.put(Integer.parseInt(entry.substring(entry.indexOf('=') + 1)), h);
                    }
                }
            } catch (IOException | RuntimeException gone) {
                // exited meanwhile, or not ours to read
            }
        });
        return out;
    }
}
