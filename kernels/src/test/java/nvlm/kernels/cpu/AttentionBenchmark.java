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
import nvlm.kernels.AttentionMask;
import nvlm.kernels.AttentionShape;
import nvlm.kernels.Parallel;

/**
 * Attention forward/backward throughput, B=1, H=8, d=64, causal, against a naive Java loop and
 * (if /usr/bin/python3 has torch) torch softmax(QK^T)V with 2 threads, in the same run.
 * Not a test (no Test suffix): run with
 * <pre>
 * mvn -q -o -pl kernels test-compile
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *   -cp kernels/target/classes:kernels/target/test-classes nvlm.kernels.cpu.AttentionBenchmark [T ...]
 * </pre>
 * System properties: -Dheads=8 -DkvHeads=8 -Dd=64 -DwarmupSeconds=15, -DskipNaive=true,
 * -DskipTorch=true, -DotherShapes=true (adds an InternViT and a gated cross-attention shape).
 * NVLM_THREADS sets the pool size. FLOPs counted as in the flash-attention papers: forward
 * 4 T^2 d per head (halved for causal), backward 2.5x forward (ours does 3.5x: the dk/dv and
 * dq passes each recompute the score and dP tiles).
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
        for (int t : lengths) {
            AttentionShape s = new AttentionShape(1, heads, kvHeads, t, t, d, (float) (1 / Math.sqrt(d)),
                    AttentionMask.CAUSAL);
            Problem p = new Problem(s, null);
            measure("T=" + t + " fused  ", p, 4.0 * t * t * d * heads / 2);
            if (Boolean.getBoolean("skipNaive")) {
                continue;
            }
            double naive = naiveForwardSeconds(s, p.q, p.k, p.v);
            System.out.printf("T=%d naive   forward %8.2f ms %6.1f GFLOP/s (one head timed, scaled to %d; scalar"
                    + " loops, one thread)%n", t, naive * 1e3, 4.0 * t * t * d * heads / 2 / naive / 1e9, heads);
        }
        if (Boolean.getBoolean("otherShapes")) {
            // InternViT-300M: 16 heads of 64 over 1 + 32 * 32 = 1025 tokens, 7 tiles (docs/model.md §2).
            AttentionShape vit = new AttentionShape(7, 16, 16, 1025, 1025, 64, 0.125f, AttentionMask.NONE);
            measure("ViT 7x16x1025 d64 ", new Problem(vit, null), 4.0 * 1025 * 1025 * 64 * 16 * 7);
            // Gated cross-attention: 512 text positions over 7 tiles of 64 tokens, each position sees one tile.
            AttentionShape xattn = new AttentionShape(1, 8, 2, 512, 448, 64, 0.125f, AttentionMask.EXPLICIT);
            MemorySegment mask = Arena.ofAuto().allocate(512 * 448);
            for (int i = 0; i < 512; i++) {
                int tile = i * 7 / 512;
                mask.asSlice((long) i * 448 + tile * 64, 64).fill((byte) 1);
            }
            measure("xattn 512x448 one tile", new Problem(xattn, mask), 4.0 * 512 * 64 * 64 * 8);
        }
        if (!Boolean.getBoolean("skipTorch")) {
            torch(lengths, heads, d);
        }
    }

    /** Random inputs and outputs for one shape, contiguous [B, H, T, D]. */
    private record Problem(AttentionShape s, HeadView q, HeadView k, HeadView v, HeadView dOut, HeadView out,
                           HeadView dq, HeadView dk, HeadView dv, MemorySegment lse, MemorySegment mask) {
        Problem(AttentionShape s, MemorySegment mask) {
            this(s, view(s, s.qHeads(), s.qLen()), view(s, s.kvHeads(), s.kvLen()), view(s, s.kvHeads(), s.kvLen()),
                    view(s, s.qHeads(), s.qLen()), view(s, s.qHeads(), s.qLen()), view(s, s.qHeads(), s.qLen()),
                    view(s, s.kvHeads(), s.kvLen()), view(s, s.kvHeads(), s.kvLen()),
                    Arena.ofAuto().allocate(4L * s.batch() * s.qHeads() * s.qLen()), mask);
        }

        void forward() {
            long rowStride = s.kvLen();
            Attention.forward(s, q, k, v, mask, 0, 0, rowStride, out, lse, 0);
        }

        void backward() {
            long rowStride = s.kvLen();
            Attention.backward(s, q, k, v, mask, 0, 0, rowStride, out, lse, 0, dOut, dq, dk, dv);
        }
    }

    /**
     * Warms up until C2 has compiled the kernels (seconds on a busy 2-core machine), then keeps the
     * best of 5 rounds of at least a second each (process CPU time ticks in 10 ms steps). Backward
     * FLOPs are counted as 2.5x forward.
     */
    private static void measure(String label, Problem p, double forwardFlops) {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        double backwardFlops = 2.5 * forwardFlops;
        long warmUntil = System.nanoTime() + Long.getLong("warmupSeconds", 15) * 1_000_000_000L;
        while (System.nanoTime() < warmUntil) {
            p.forward();
            p.backward();
        }
        long one = System.nanoTime();
        p.forward();
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
                p.forward();
            }
            long t1 = System.nanoTime();
            long cpu1 = os.getProcessCpuTime();
            long bytes1 = threads.getTotalThreadAllocatedBytes();
            for (int i = 0; i < reps; i++) {
                p.backward();
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
        System.out.printf("%s forward %8.2f ms %6.1f GFLOP/s (%.1f MiB heap/call)  backward %8.2f ms %6.1f GFLOP/s"
                        + " (%.1f MiB heap/call)%n", label, fwd * 1e3, forwardFlops / fwd / 1e9, fwdBytes, bwd * 1e3,
                backwardFlops / bwd / 1e9, bwdBytes);
        // On a shared machine wall time includes waiting for a core; CPU time does not.
        System.out.printf("%s forward %6.1f GFLOP per CPU-second, backward %6.1f GFLOP per CPU-second%n", label,
                forwardFlops / fwdCpu / 1e9, backwardFlops / bwdCpu / 1e9);
    }

    private static HeadView view(AttentionShape s, int heads, int t) {
        SplittableRandom random = new SplittableRandom(heads * 31L + t);
        long n = (long) s.batch() * heads * t * s.headDim();
        MemorySegment data = Arena.ofAuto().allocate(4L * n);
        for (long i = 0; i < n; i++) {
            data.setAtIndex(F32, i, (float) (random.nextDouble() * 2 - 1));
        }
        return HeadView.contiguous(data, 0, heads, t, s.headDim());
    }

    /** The obvious float loop (row scores, softmax, weighted sum) over one head, times the head count. */
    private static double naiveForwardSeconds(AttentionShape s, HeadView q, HeadView k, HeadView v) {
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
