package nvlm.kernels.cpu;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Attention forward/backward throughput, B=1, H=8, d=64, causal, against a naive Java loop and
 * (if /usr/bin/python3 has torch) torch softmax(QK^T)V with 2 threads, in the same run.
 * Not a test (no Test suffix): run with
 * <pre>
 * mvn -q -o -pl kernels test-compile
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *   -cp kernels/target/classes:kernels/target/test-classes nvlm.kernels.cpu.AttentionBenchmark [T ...]
 * </pre>
 * FLOPs counted as in the flash-attention papers: forward 4 T^2 d per head (halved for causal),
 * backward 2.5x forward (our backward does 3.5x: dk/dv and dq passes each recompute the scores).
 */
public final class AttentionBenchmark {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private AttentionBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        List<Integer> lengths = new ArrayList<>();
        for (String arg : args) {
            lengths.add(Integer.parseInt(arg));
        }
        if (lengths.isEmpty()) {
            lengths.add(1024);
            lengths.add(4096);
        }
        int heads = Integer.getInteger("heads", 8);
        int kvHeads = Integer.getInteger("kvHeads", heads);
        int d = Integer.getInteger("d", 64);
        System.out.printf("threads=%d lanes=%d block=%d heads=%d kvHeads=%d d=%d causal%n", Parallel.threads(),
                AttentionTiles.LANES, AttentionTiles.BLOCK, heads, kvHeads, d);
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int t : lengths) {
            AttentionShape s = new AttentionShape(1, heads, kvHeads, t, t, d, (float) (1 / Math.sqrt(d)),
                    AttentionMask.CAUSAL);
            SplittableRandom random = new SplittableRandom(1);
            HeadView q = view(random, heads, t, d);
            HeadView k = view(random, kvHeads, t, d);
            HeadView v = view(random, kvHeads, t, d);
            HeadView dOut = view(random, heads, t, d);
            HeadView out = view(random, heads, t, d);
            HeadView dq = view(random, heads, t, d);
            HeadView dk = view(random, kvHeads, t, d);
            HeadView dv = view(random, kvHeads, t, d);
            MemorySegment lse = Arena.ofAuto().allocate(4L * heads * t);
            double forwardFlops = 4.0 * t * t * d * heads / 2;
            double backwardFlops = 2.5 * forwardFlops;
            // Warm up until C2 has compiled the kernels (seconds on a busy 2-core machine), then keep the best of 5 rounds.
            long warmUntil = System.nanoTime() + Long.getLong("warmupSeconds", 15) * 1_000_000_000L;
            while (System.nanoTime() < warmUntil) {
                Attention.forward(s, q, k, v, null, 0, 0, 0, out, lse, 0);
                Attention.backward(s, q, k, v, null, 0, 0, 0, out, lse, 0, dOut, dq, dk, dv);
            }
            // Rounds of at least a second: process CPU time ticks in 10 ms steps.
            long one = System.nanoTime();
            Attention.forward(s, q, k, v, null, 0, 0, 0, out, lse, 0);
            int reps = (int) Math.max(2, Math.min(1000, 1e9 / (System.nanoTime() - one)));
            double fwd = Double.MAX_VALUE;
            double bwd = Double.MAX_VALUE;
            double fwdCpu = Double.MAX_VALUE;
            double bwdCpu = Double.MAX_VALUE;
            double fwdBytes = 0;
            double bwdBytes = 0;
            for (int round = 0; round < 5; round++) {
                long bytes0 = threads.getTotalThreadAllocatedBytes();
                long cpu0 = os.getProcessCpuTime();
                long t0 = System.nanoTime();
                for (int i = 0; i < reps; i++) {
                    Attention.forward(s, q, k, v, null, 0, 0, 0, out, lse, 0);
                }
                long t1 = System.nanoTime();
                long cpu1 = os.getProcessCpuTime();
                long bytes1 = threads.getTotalThreadAllocatedBytes();
                for (int i = 0; i < reps; i++) {
                    Attention.backward(s, q, k, v, null, 0, 0, 0, out, lse, 0, dOut, dq, dk, dv);
                }
                long t2 = System.nanoTime();
                long cpu2 = os.getProcessCpuTime();
                long bytes2 = threads.getTotalThreadAllocatedBytes();
                fwd = Math.min(fwd, (t1 - t0) / 1e9 / reps);
                bwd = Math.min(bwd, (t2 - t1) / 1e9 / reps);
                fwdCpu = Math.min(fwdCpu, (cpu1 - cpu0) / 1e9 / reps);
                bwdCpu = Math.min(bwdCpu, (cpu2 - cpu1) / 1e9 / reps);
                fwdBytes = (bytes1 - bytes0) / 1048576.0 / reps;
                bwdBytes = (bytes2 - bytes1) / 1048576.0 / reps;
            }
            System.out.printf("T=%d fused   forward %8.2f ms %6.1f GFLOP/s (%.1f MiB heap/call)  backward %8.2f ms %6.1f"
                            + " GFLOP/s (%.1f MiB heap/call)%n", t, fwd * 1e3, forwardFlops / fwd / 1e9, fwdBytes,
                    bwd * 1e3, backwardFlops / bwd / 1e9, bwdBytes);
            // On a shared machine wall time includes waiting for a core; CPU time does not.
            System.out.printf("T=%d fused   forward %6.1f GFLOP per CPU-second, backward %6.1f GFLOP per CPU-second%n", t,
                    forwardFlops / fwdCpu / 1e9, backwardFlops / bwdCpu / 1e9);
            if (Boolean.getBoolean("skipNaive")) {
                continue;
            }
            double naive = naiveForwardSeconds(s, q, k, v, out);
            System.out.printf("T=%d naive   forward %8.2f ms %6.1f GFLOP/s (one head timed, scaled to %d; scalar"
                    + " loops, one thread)%n", t, naive * 1e3, forwardFlops / naive / 1e9, heads);
        }
        if (!Boolean.getBoolean("skipTorch")) {
            torch(lengths, heads, d);
        }
    }

    private static HeadView view(SplittableRandom random, int heads, int t, int d) {
        MemorySegment data = Arena.ofAuto().allocate(4L * heads * t * d);
        for (long i = 0; i < (long) heads * t * d; i++) {
            data.setAtIndex(F32, i, (float) (random.nextDouble() * 2 - 1));
        }
        return HeadView.contiguous(data, 0, heads, t, d);
    }

    /** The obvious float loop (row scores, softmax, weighted sum) over one head, times the head count. */
    private static double naiveForwardSeconds(AttentionShape s, HeadView q, HeadView k, HeadView v, HeadView out) {
        int t = s.qLen();
        int d = s.headDim();
        float[] qa = q.data().asSlice(0, 4L * t * d).toArray(F32);
        float[] ka = k.data().asSlice(0, 4L * t * d).toArray(F32);
        float[] va = v.data().asSlice(0, 4L * t * d).toArray(F32);
        float[] o = new float[t * d];
        float[] p = new float[t];
        long best = Long.MAX_VALUE;
        for (int rep = 0; rep < 2; rep++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < t; i++) {
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    float dot = 0;
                    for (int c = 0; c < d; c++) {
                        dot += qa[i * d + c] * ka[j * d + c];
                    }
                    p[j] = dot * s.scale();
                    max = Math.max(max, p[j]);
                }
                float sum = 0;
                for (int j = 0; j <= i; j++) {
                    p[j] = (float) Math.exp(p[j] - max);
                    sum += p[j];
                }
                for (int c = 0; c < d; c++) {
                    float acc = 0;
                    for (int j = 0; j <= i; j++) {
                        acc += p[j] * va[j * d + c];
                    }
                    o[i * d + c] = acc / sum;
                }
            }
            best = Math.min(best, System.nanoTime() - t0);
        }
        return best / 1e9 * s.qHeads();
    }

    private static void torch(List<Integer> lengths, int heads, int d) throws IOException, InterruptedException {
        Path python = Path.of("/usr/bin/python3");
        if (!Files.isExecutable(python)) {
            System.out.println("torch: /usr/bin/python3 missing, skipped");
            return;
        }
        String script = torchScript(lengths, heads, d);
        Path file = Files.createTempFile("attention-bench", ".py");
        Files.writeString(file, script, StandardCharsets.UTF_8);
        Process process = new ProcessBuilder(python.toString(), file.toString()).redirectErrorStream(true).start();
        System.out.print(new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        process.waitFor();
        Files.deleteIfExists(file);
    }

    private static String torchScript(List<Integer> lengths, int heads, int d) {
        StringBuilder ts = new StringBuilder();
        for (int t : lengths) {
            ts.append(t).append(',');
        }
        return String.join("\n",
                "import sys, time",
                "try:",
                "    import torch",
                "except ImportError:",
                "    print('torch: not installed for /usr/bin/python3, skipped'); sys.exit(0)",
                "torch.set_num_threads(2)",
                "H, D = " + heads + ", " + d,
                "for T in [" + ts + "]:",
                "    q, k, v = (torch.randn(1, H, T, D, requires_grad=True) for _ in range(3))",
                "    mask = torch.ones(T, T, dtype=torch.bool).tril()",
                "    g = torch.randn(1, H, T, D)",
                "    def fwd():",
                "        s = (q @ k.transpose(-1, -2)) * D ** -0.5",
                "        return torch.softmax(s.masked_fill(~mask, float('-inf')), -1) @ v",
                "    flops = 4.0 * T * T * D * H / 2",
                "    reps = max(1, int(4e9 / flops))",
                "    fwd().backward(g)",
                "    t0 = time.perf_counter()",
                "    with torch.no_grad():",
                "        for _ in range(reps):",
                "            fwd()",
                "    fw = (time.perf_counter() - t0) / reps",
                "    bw = 0.0",
                "    for _ in range(reps):",
                "        o = fwd()",
                "        t1 = time.perf_counter()",
                "        o.backward(g)",
                "        bw += time.perf_counter() - t1",
                "    bw /= reps",
                "    print('T=%d torch   forward %8.2f ms %6.1f GFLOP/s  backward %8.2f ms %6.1f GFLOP/s"
                        + " (torch %s, 2 threads, materializes T x T)' % (T, fw * 1e3, flops / fw / 1e9, bw * 1e3,"
                        + " 2.5 * flops / bw / 1e9, torch.__version__))",
                "");
    }
}
