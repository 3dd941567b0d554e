package nvlm.comm;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Starts this same Java command as {@code n} ranks with Open MPI's {@code mpirun} on this machine
 * and waits for them: what {@code ./nvlm train --nproc N} does when no launcher started it. The
 * ranks run with {@code --oversubscribe --bind-to none} (more ranks than cores is allowed, and the
 * JVM's threads are not pinned), and as root with Open MPI's two consent variables set. When one
 * rank fails, {@code mpirun} ends the others and exits non-zero.
 */
public final class MpiRun {
    private MpiRun() {
    }

    /** The {@code mpirun} on {@code $PATH}, if any. */
    public static Optional<Path> mpirun() {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir.isBlank() ? "." : dir, "mpirun");
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** {@code mpirun} and its options for {@code n} ranks on this machine; the program follows. */
    public static List<String> launcher(Path mpirun, int n) {
        return List.of(mpirun.toString(), "-n", Integer.toString(n), "--oversubscribe", "--bind-to", "none");
    }

    /** The command that starts {@code n} ranks of {@code mainClass} with {@code args}, in this JVM's configuration. */
    public static List<String> command(Path mpirun, int n, String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>(launcher(mpirun, n));
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        return cmd;
    }

    /**
     * Runs {@code n} ranks and returns mpirun's exit status (0 when every rank succeeded). The
     * ranks share this process's standard streams.
     */
    public static int run(int n, String mainClass, List<String> args) throws java.io.IOException, InterruptedException {
        Path mpirun = mpirun().orElseThrow(() -> new CommException("--nproc " + n + " needs Open MPI's mpirun on PATH"
                + " (apt-get install openmpi-bin libopenmpi-dev)"));
        ProcessBuilder pb = new ProcessBuilder(command(mpirun, n, mainClass, args)).inheritIO();
        if ("root".equals(System.getProperty("user.name"))) {
            // Open MPI refuses to run as root without both (its own safety switch).
            pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
            pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        }
        Process p = pb.start();
        Thread forward = new Thread(p::destroy, "nvlm-mpirun-stop");
        Runtime.getRuntime().addShutdownHook(forward);
        try {
            return p.waitFor();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(forward);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running
            }
        }
    }
}
