package nvlm.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import nvlm.comm.Communicator;
import nvlm.comm.MpiCommunicator;
import nvlm.comm.MpiRun;
import nvlm.comm.Reduction;
import nvlm.comm.World;
import nvlm.kernels.DType;
import nvlm.tensor.Device;
import nvlm.tensor.Tensor;
import nvlm.tensor.io.DurableFiles;
import nvlm.tensor.io.Json;
import nvlm.trainer.cli.Main;
import nvlm.trainer.cli.OptionTypes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./nvlm bench allreduce}: bus bandwidth of an in-place F32 sum all-reduce through this
 * project's MPI binding ({@link MpiCommunicator}) and through Open MPI called from C
 * (bench/c/allreduce_peer.c, compiled with mpicc), on the same ranks, sizes and iteration counts,
 * launches alternating. Bus bandwidth is nccl-tests' definition: bytes x 2(n-1)/n / seconds.
 */
@Command(name = "allreduce", header = "all-reduce bus bandwidth of the MPI binding vs Open MPI from C, 1 KB to 256 MB",
        description = """
                Starts --ranks ranks with mpirun, alternately running the Java binding and the C peer, --launches times
                each; per size prints one JSON line: {"bytes":..,"java_busbw_gb_s":[median,min,max],"c_busbw_gb_s":[..],
                "ratio":..} (ratio of the medians, java / c).""")
final class AllReduceBench implements Callable<Integer> {
    @Option(names = "--ranks", paramLabel = "N", converter = OptionTypes.AtLeastOne.class, description = "ranks (default ${DEFAULT-VALUE})")
    int ranks = 2;
    @Option(names = "--min-bytes", paramLabel = "B", description = "smallest message (default ${DEFAULT-VALUE})")
    long minBytes = 1024;
    @Option(names = "--max-bytes", paramLabel = "B", description = "largest message (default ${DEFAULT-VALUE}: 256 MB)")
    long maxBytes = 256L << 20;
    @Option(names = "--launches", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "launches of each side (default ${DEFAULT-VALUE}); median and range reported")
    int launches = 3;
    @Option(names = "--rank-mode", hidden = true, description = "internal: run as one rank of the Java side")
    boolean rankMode;

    /** Timed calls per size, the same rule as the C peer's: about 64 MB moved, 3 to 200 calls. */
    static int iterations(long bytes) {
        long n = (64L << 20) / bytes;
        return (int) Math.max(3, Math.min(200, n));
    }

    @Override
    public Integer call() throws Exception {
        if (minBytes < 4 || minBytes % 4 != 0 || maxBytes < minBytes) {
            throw new nvlm.trainer.cli.UsageException("--min-bytes must be a positive multiple of 4 and at most --max-bytes");
        }
        if (rankMode || World.fromEnvironment().isPresent()) {
            return rank();
        }
        if (MpiRun.mpirun().isEmpty()) {
            System.err.println("bench allreduce: needs Open MPI's mpirun on PATH (apt-get install openmpi-bin libopenmpi-dev)");
            return 1;
        }
        Path work = Files.createTempDirectory("nvlm-bench-allreduce");
        try {
            Path peer = compilePeer(work);
            Map<Long, List<Double>> java = new TreeMap<>();
            Map<Long, List<Double>> c = new TreeMap<>();
            for (int launch = 0; launch < launches; launch++) {
                List<String> args = List.of("bench", "allreduce", "--rank-mode", "--min-bytes", Long.toString(minBytes),
                        "--max-bytes", Long.toString(maxBytes));
                collect(run(MpiRun.command(MpiRun.mpirun().orElseThrow(), ranks, Main.class.getName(), args)), java);
                if (peer != null) {
                    List<String> cmd = new ArrayList<>(MpiRun.launcher(MpiRun.mpirun().orElseThrow(), ranks));
                    cmd.addAll(List.of(peer.toString(), Long.toString(minBytes), Long.toString(maxBytes)));
                    collect(run(cmd), c);
                }
                System.err.printf("launch %d of %d done%n", launch + 1, launches);
            }
            for (long bytes : java.keySet()) {
                double[] j = stats(java.get(bytes));
                double[] p = c.containsKey(bytes) ? stats(c.get(bytes)) : null;
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("bytes", bytes);
                line.put("ranks", (long) ranks);
                line.put("java_busbw_gb_s", List.of(j[0], j[1], j[2]));
                line.put("c_busbw_gb_s", p == null ? null : List.of(p[0], p[1], p[2]));
                line.put("ratio", p == null ? null : j[0] / p[0]);
                System.out.println(Json.write(line));
            }
            return 0;
        } finally {
            DurableFiles.deleteTree(work);
        }
    }

    /** One Java rank: the same loop as the C peer; rank 0 prints "BYTES ITERATIONS SECONDS_PER_CALL". */
    private int rank() {
        Communicator comm = World.join();
        Tensor buf = Tensor.zeros(Device.CPU, DType.F32, maxBytes / 4);
        Tensor smallest = buf.narrow(0, 0, minBytes / 4);
        for (int i = 0; i < 2000; i++) {
            comm.allReduce(smallest); // untimed: the JIT compiles the call path, as a long training run's would be
        }
        sweep(comm, buf, false); // untimed, as the C peer's first sweep
        sweep(comm, buf, true);
        return 0;
    }

    private void sweep(Communicator comm, Tensor buf, boolean print) {
        for (long bytes = minBytes; bytes <= maxBytes; bytes *= 2) {
            Tensor view = buf.narrow(0, 0, bytes / 4);
            int n = iterations(bytes);
            for (int i = 0; i < n / 4 + 2; i++) {
                comm.allReduce(view); // untimed, as many as the C peer's
            }
            comm.barrier();
            double start = MpiCommunicator.wallTime();
            for (int i = 0; i < n; i++) {
                comm.allReduce(view);
            }
            double[] seconds = {(MpiCommunicator.wallTime() - start) / n};
            comm.allReduce(seconds, Reduction.MAX);
            if (print && comm.rank() == 0) {
                System.out.printf("%d %d %.9e%n", bytes, n, seconds[0]);
                System.out.flush();
            }
        }
    }

    private Path compilePeer(Path work) throws IOException, InterruptedException {
        Path source = Path.of(System.getProperty("nvlm.root", "."), "bench", "c", "allreduce_peer.c");
        Path binary = work.resolve("allreduce_peer");
        if (!Files.isRegularFile(source)) {
            System.err.println("c peer: " + source + " not found (run through ./nvlm, which sets -Dnvlm.root); Java side only");
            return null;
        }
        try {
            Process p = new ProcessBuilder("mpicc", "-O2", "-o", binary.toString(), source.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                System.err.println("c peer: mpicc failed:\n" + out);
                return null;
            }
        } catch (IOException e) {
            System.err.println("c peer: no mpicc (apt-get install libopenmpi-dev): " + e.getMessage() + "; Java side only");
            return null;
        }
        return binary;
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("bench allreduce: " + String.join(" ", command.subList(0, Math.min(6, command.size())))
                    + "... failed with exit " + p.exitValue() + ":\n" + out);
        }
        return out;
    }

    private void collect(String output, Map<Long, List<Double>> into) {
        for (String line : output.lines().toList()) {
            String[] f = line.strip().split("\\s+");
            if (f.length != 3 || !f[0].chars().allMatch(Character::isDigit)) {
                continue; // not a measurement (JVM warnings and the like)
            }
            long bytes = Long.parseLong(f[0]);
            double seconds = Double.parseDouble(f[2]);
            double busBytes = bytes * 2.0 * (ranks - 1) / ranks;
            into.computeIfAbsent(bytes, k -> new ArrayList<>()).add(busBytes / seconds / 1e9);
        }
    }

    /** Median, min and max. */
    private static double[] stats(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return new double[] {v[v.length / 2], v[0], v[v.length - 1]};
    }
}
