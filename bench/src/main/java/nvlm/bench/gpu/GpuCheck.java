package nvlm.bench.gpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import nvlm.bench.Samples;
import nvlm.comm.NcclCommunicator;
import nvlm.comm.Reduction;
import nvlm.cuda.backend.Accelerator;
import nvlm.cuda.backend.BackendParity;
import nvlm.cuda.backend.CudaAccelerator;
import nvlm.cuda.backend.CudaBackend;
import nvlm.cuda.backend.GemmPlan;
import nvlm.cuda.backend.MatmulPrecision;
import nvlm.cuda.runtime.CachingAllocator;
import nvlm.cuda.runtime.Cuda;
import nvlm.cuda.runtime.CudaEvent;
import nvlm.cuda.runtime.DeviceBuffer;
import nvlm.cuda.runtime.GemmCall;
import nvlm.kernels.DType;
import nvlm.kernels.translator.BF16Buffer;
import nvlm.model.Batch;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.tensor.Device;
import nvlm.tensor.GradMode;
import nvlm.tensor.MemoryScope;
import nvlm.tensor.Tensor;
import nvlm.tensor.io.Json;
import nvlm.tensor.nn.Parameter;
import nvlm.trainer.train.Reducer;

/**
 * The CUDA backend's device check, one program for the GPU machine:
 * <ol>
 *   <li>{@code ops}: every Backend operation against the CPU backend ({@link BackendParity}, fresh seeds);</li>
 *   <li>{@code models}: NVLM-D, X and H (tiny preset, the golden configs and batches) forward and
 *       backward against the CPU, in f32 and bf16 products ({@link ModelParity});</li>
 *   <li>{@code gemm}: BF16 GEMM TFLOP/s at 4096^3 and 8192^3 through the cuBLAS binding (and through
 *       the backend's matmul);</li>
 *   <li>{@code attention}: forward and backward of the attention kernels, B=4, H=8, d=64, causal, f32;</li>
 *   <li>{@code train}: training samples/s of D, X and H at the small preset (2 rows of one 6+1-tile
 *       image each), bf16 and f32 products; also writes each model folder and batch for the PyTorch
 *       peer ({@code bench/gpu/torch_peers.py}).</li>
 *   <li>{@code nccl}: the NCCL communicator through the real libnccl, one rank without MPI: every
 *       collective on three sizes, and NVLM-D's gradients through the bucketed all-reduce over
 *       NCCL against a plain backward pass, bit for bit.</li>
 * </ol>
 * Each section runs in its own try with its own time limit, prints PASS/FAIL lines as results
 * come, and everything goes to {@code OUT/java.json} for {@code bench/gpu/report.py}'s table.
 *
 * <pre>
 * java -cp nvlm.jar nvlm.bench.gpu.GpuCheck --out DIR --work DIR [--golden tests/reference/golden]
 *      [--sections ops,models,gemm,attention,train,nccl] [--seed N] [--prepare-only]
 * </pre>
 */
public final class GpuCheck {
    private final Path out;
    private final Path work;
    private final Path golden;
    private final long seed;
    private final Map<String, Object> report = new LinkedHashMap<>();

    private GpuCheck(Path out, Path work, Path golden, long seed) {
        this.out = out;
        this.work = work;
        this.golden = golden;
        this.seed = seed;
    }

    /** Seconds each section may take; a section past its limit is reported as timed out and the next one starts. */
    static final Map<String, Integer> LIMITS = Map.of("ops", 60, "models", 40, "gemm", 25, "attention", 30, "train", 70, "nccl", 30);

    public static void main(String[] args) throws Exception {
        Map<String, String> options = options(args);
        Path out = Path.of(options.getOrDefault("out", "gpu-check-out"));
        Path work = Path.of(options.getOrDefault("work", "/tmp/nvlm-gpu-check"));
        Path golden = Path.of(options.getOrDefault("golden", "tests/reference/golden"));
        long seed = Long.parseLong(options.getOrDefault("seed", Long.toString(System.nanoTime() & 0xffffff)));
        Files.createDirectories(out);
        Files.createDirectories(work);
        GpuCheck check = new GpuCheck(out, work, golden, seed);
        if (options.containsKey("prepare-only")) {
            check.prepareTrainingInputs();
            return;
        }
        // Order: the sections least likely to fault the device first (a device fault is sticky and
        // would fail everything after it); the broad op sweep, with its odd shapes, last.
        List<String> sections = List.of(options.getOrDefault("sections", "gemm,models,train,nccl,attention,ops").split(","));
        check.run(sections);
        System.exit(0);
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("GpuCheck: unexpected argument '" + args[i] + "'");
            }
            String key = args[i].substring(2);
            if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                options.put(key, args[++i]);
            } else {
                options.put(key, "true");
            }
        }
        return options;
    }

    private void run(List<String> sections) throws IOException {
        say("nvlm GpuCheck: java " + Runtime.version() + ", seed " + seed);
        report.put("seed", seed);
        Map<String, Object> device = new LinkedHashMap<>();
        report.put("device", device);
        try {
            long started = System.nanoTime();
            CudaAccelerator gpu = CudaBackend.instance().gpu();
            device.put("name", gpu.description());
            device.put("open_and_compile_s", (System.nanoTime() - started) / 1e9);
            device.put("kernel_compile_s", gpu.compileSeconds());
            device.put("memory_gib", gpu.device().totalMemory() / (double) (1L << 30));
            device.put("memory_free_gib", gpu.device().memoryInfo().free() / (double) (1L << 30));
            device.put("driver", Cuda.driverVersion());
            say(String.format(Locale.ROOT, "DEVICE %s: opened and %d kernels compiled (NVRTC, parallel) in %.1f s",
                    gpu.description(), nvlm.kernels.gpu.GpuKernels.all().size(), gpu.compileSeconds()));
            Map<String, String> failures = gpu.compileFailures();
            if (!failures.isEmpty()) {
                device.put("compile_failures", new ArrayList<>(failures.keySet()));
                failures.forEach((name, log) -> {
                    errors().add("kernel " + name + " did not compile: " + log.lines().findFirst().orElse(""));
                    say("KERNEL " + name + " FAIL to compile:\n" + log);
                });
            }
        } catch (Throwable e) {
            device.put("error", describe(e));
            say("DEVICE FAIL " + e);
            e.printStackTrace(System.out);
            write();
            return;
        }
        if (sections.contains("train")) {
            // The PyTorch peer reads these even when the Java training section fails.
            try {
                prepareTrainingInputs();
            } catch (IOException | RuntimeException e) {
                errors().add("prepare: " + describe(e));
                say("PREPARE FAIL " + describe(e));
            }
        }
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "gpu-check-section");
            t.setDaemon(true);
            return t;
        });
        for (String section : sections) {
            long started = System.nanoTime();
            Future<?> future = pool.submit(() -> {
                CudaBackend.instance().gpu().makeCurrent();
                try (var grads = GradMode.enabled()) {
                    switch (section) {
                        case "ops" -> ops();
                        case "models" -> models();
                        case "gemm" -> gemm();
                        case "attention" -> attention();
                        case "train" -> train();
                        case "nccl" -> nccl();
                        default -> throw new IllegalArgumentException("unknown section " + section);
                    }
                }
                return null;
            });
            try {
                future.get(LIMITS.getOrDefault(section, 60), TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                future.cancel(true);
                errors().add(section + ": timed out after " + LIMITS.get(section) + " s");
                say("SECTION " + section + " TIMEOUT after " + LIMITS.get(section) + " s");
                // The section's thread may still hold the device: later sections run on a fresh one.
                pool.shutdownNow();
                pool = Executors.newSingleThreadExecutor(r -> {
                    Thread t = new Thread(r, "gpu-check-section");
                    t.setDaemon(true);
                    return t;
                });
            } catch (Exception e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                errors().add(section + ": " + describe(cause));
                say("SECTION " + section + " FAIL " + describe(cause));
                cause.printStackTrace(System.out);
            }
            say(String.format(Locale.ROOT, "SECTION %s done in %.1f s", section, (System.nanoTime() - started) / 1e9));
            write();
        }
        pool.shutdownNow();
        write();
    }

    @SuppressWarnings("unchecked")
    private List<String> errors() {
        return (List<String>) report.computeIfAbsent("errors", k -> new ArrayList<String>());
    }

    @SuppressWarnings("unchecked")
    private synchronized List<Object> list(String name) {
        return (List<Object>) report.computeIfAbsent(name, k -> new ArrayList<Object>());
    }

    private synchronized void write() throws IOException {
        Path temp = out.resolve("java.json.tmp");
        Files.writeString(temp, Json.writePretty(report));
        Files.move(temp, out.resolve("java.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    private static String describe(Throwable e) {
        return e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).lines().findFirst().orElse("");
    }

    // ------------------------------------------------------------------ (a) every op against the CPU

    private void ops() {
        for (long s : new long[] {seed, seed + 1}) {
            BackendParity parity = new BackendParity(s, BackendParity.Scale.LARGE);
            parity.checks().forEach((name, body) -> {
                BackendParity.Result r;
                try (MemoryScope scope = MemoryScope.open()) {
                    r = parity.run(name, body);
                }
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("name", name);
                row.put("seed", s);
                row.put("error", r.error());
                row.put("tolerance", r.tolerance());
                row.put("passed", r.passed());
                row.put("detail", r.detail());
                list("ops").add(row);
                say("OP " + r.line());
            });
        }
    }

    // ------------------------------------------------------------------ (b) whole models against the CPU

    private void models() throws IOException {
        for (String fixture : List.of("tiny-d", "tiny-x", "tiny-h")) {
            Path dir = golden.resolve(fixture);
            NvlmConfig config = NvlmConfig.read(dir.resolve("config.json"));
            Batch batch = Batch.read(dir.resolve("batch.safetensors"));
            for (MatmulPrecision precision : List.of(MatmulPrecision.F32, MatmulPrecision.BF16)) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("name", fixture);
                row.put("precision", precision.name());
                try (MemoryScope scope = MemoryScope.open()) {
                    ModelParity.Result r = ModelParity.compare(fixture, config, batch, seed, precision);
                    row.put("logits_max_rel", r.logits());
                    row.put("loss_rel", r.loss());
                    row.put("grad_worst_rel", r.gradient());
                    row.put("grad_worst_name", r.worstGrad());
                    row.put("grads_compared", r.gradientsCompared());
                    row.put("tolerances", List.of(r.logitsTolerance(), r.lossTolerance(), r.gradientTolerance()));
                    row.put("passed", r.passed());
                    say("MODEL " + r.line());
                } catch (RuntimeException e) {
                    row.put("passed", false);
                    row.put("error", describe(e));
                    say("MODEL " + fixture + "-" + precision + " FAIL " + describe(e));
                }
                list("models").add(row);
            }
        }
    }

    // ------------------------------------------------------------------ (c) BF16 GEMM throughput

    private interface Timed {
        void run();
    }

    /** Milliseconds of each of {@code repeats} runs after {@code warmup}, timed with CUDA events on the backend's stream. */
    private static double[] time(CudaAccelerator gpu, int warmup, int repeats, Timed body) {
        for (int i = 0; i < warmup; i++) {
            body.run();
        }
        gpu.synchronize();
        double[] millis = new double[repeats];
        try (CudaEvent start = CudaEvent.create(true); CudaEvent end = CudaEvent.create(true)) {
            for (int i = 0; i < repeats; i++) {
                start.record(gpu.stream());
                body.run();
                end.record(gpu.stream());
                end.synchronize();
                millis[i] = end.elapsedMillisSince(start);
            }
        }
        return millis;
    }

    private void gemm() {
        CudaAccelerator gpu = CudaBackend.instance().gpu();
        for (int n : new int[] {4096, 8192}) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("size", n);
            long elements = (long) n * n;
            try (DeviceBuffer a = gpu.allocate(2 * elements); DeviceBuffer b = gpu.allocate(2 * elements);
                 DeviceBuffer c = gpu.allocate(2 * elements)) {
                gpu.launch(RandomFill.bf16(BF16Buffer.of(gpu.view(a.address(), a.byteSize())), elements, seed));
                gpu.launch(RandomFill.bf16(BF16Buffer.of(gpu.view(b.address(), b.byteSize())), elements, seed + 7));
                // Row-major C = A B (as torch.matmul(a, b)), bf16 in and out, f32 accumulation: the
                // backend's own mapping to the column-major cuBLAS call, without its f32 output.
                long[] shape = {1, n, n};
                long[] strides = {elements, n, 1};
                GemmCall call = GemmPlan.of(shape, strides, false, shape, strides, false, 1)
                        .toColumnMajor(a.address(), b.address(), DType.BF16, c.address(), DType.BF16, 1f, 0f, false);
                double[] ms = time(gpu, 5, 20, () -> gpu.gemm(call));
                double median = Samples.median(ms);
                row.put("binding_ms", median);
                row.put("binding_tflops", 2.0 * n * n * n / (median * 1e-3) / 1e12);
                row.put("binding_spread_ms", List.of(Arrays.stream(ms).min().orElse(0), Arrays.stream(ms).max().orElse(0)));
                say(String.format(Locale.ROOT, "GEMM bf16 %d^3 cuBLAS binding: median %.3f ms = %.1f TFLOP/s", n, median,
                        2.0 * n * n * n / (median * 1e-3) / 1e12));
            } catch (RuntimeException e) {
                row.put("error", describe(e));
                say("GEMM " + n + " FAIL " + describe(e));
            }
            // The same product through the tensor backend (bf16 tensors, f32 output as the Backend's contract).
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor a = Tensor.empty(Device.CUDA, DType.BF16, 1, n, n);
                Tensor b = Tensor.empty(Device.CUDA, DType.BF16, 1, n, n);
                Accelerator acc = gpu;
                acc.launch(RandomFill.bf16(bf16(a, gpu), elements, seed + 1));
                acc.launch(RandomFill.bf16(bf16(b, gpu), elements, seed + 2));
                Tensor c = Tensor.empty(Device.CUDA, DType.F32, 1, n, n);
                CudaBackend backend = CudaBackend.instance();
                double[] ms = time(gpu, 3, 10, () -> backend.matmul(a, false, b, false, c, 1f, 0f));
                double median = Samples.median(ms);
                row.put("backend_ms", median);
                row.put("backend_tflops", 2.0 * n * n * n / (median * 1e-3) / 1e12);
                say(String.format(Locale.ROOT, "GEMM bf16 %d^3 Backend.matmul (f32 out): median %.3f ms = %.1f TFLOP/s", n,
                        median, 2.0 * n * n * n / (median * 1e-3) / 1e12));
            } catch (RuntimeException e) {
                row.put("backend_error", describe(e));
            }
            list("gemm").add(row);
        }
    }

    private static BF16Buffer bf16(Tensor t, CudaAccelerator gpu) {
        long address = ((nvlm.cuda.backend.CudaStorage) t.storage()).address();
        return BF16Buffer.of(gpu.view(address, t.numel() * 2));
    }

    // ------------------------------------------------------------------ (d) attention

    private void attention() {
        CudaAccelerator gpu = CudaBackend.instance().gpu();
        CudaBackend backend = CudaBackend.instance();
        int batch = 4;
        int heads = 8;
        int d = 64;
        for (int t : new int[] {1024, 4096}) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("tokens", t);
            row.put("dtype", "f32");
            try (MemoryScope scope = MemoryScope.open()) {
                Random rng = new Random(seed + t);
                Tensor q = Tensor.randn(rng, batch, heads, t, d).to(Device.CUDA);
                Tensor k = Tensor.randn(rng, batch, heads, t, d).to(Device.CUDA);
                Tensor v = Tensor.randn(rng, batch, heads, t, d).to(Device.CUDA);
                Tensor dOut = Tensor.randn(rng, batch, heads, t, d).to(Device.CUDA);
                Tensor o = Tensor.empty(Device.CUDA, DType.F32, batch, heads, t, d);
                Tensor lse = Tensor.empty(Device.CUDA, DType.F32, batch, heads, t);
                Tensor dq = Tensor.empty(Device.CUDA, DType.F32, batch, heads, t, d);
                Tensor dk = Tensor.empty(Device.CUDA, DType.F32, batch, heads, t, d);
                Tensor dv = Tensor.empty(Device.CUDA, DType.F32, batch, heads, t, d);
                float scale = (float) (1 / Math.sqrt(d));
                int repeats = t > 2048 ? 5 : 10;
                double fwd = Samples.median(time(gpu, 1, repeats, () -> backend.attention(q, k, v, null, true, scale, o, lse)));
                double bwd = Samples.median(time(gpu, 1, repeats, () -> backend.attentionBackward(q, k, v, null, true, scale, o, lse,
                        dOut, dq, dk, dv)));
                // Causal: half the score matrix; forward 2 products, backward 5 (as FlashAttention counts).
                double flops = 2.0 * batch * heads * (double) t * t * d;
                row.put("forward_ms", fwd);
                row.put("backward_ms", bwd);
                row.put("forward_tflops", flops * 2 * 0.5 / (fwd * 1e-3) / 1e12);
                row.put("backward_tflops", flops * 5 * 0.5 / (bwd * 1e-3) / 1e12);
                say(String.format(Locale.ROOT, "ATTENTION f32 causal B=%d H=%d T=%d d=%d: forward %.3f ms, backward %.3f ms",
                        batch, heads, t, d, fwd, bwd));
            } catch (RuntimeException e) {
                row.put("error", describe(e));
                say("ATTENTION T=" + t + " FAIL " + describe(e));
            }
            list("attention").add(row);
        }
    }

    // ------------------------------------------------------------------ (e) training throughput

    /** The small-preset models and batches, written for the PyTorch peer: WORK/models/{d,x,h}/ with batch.safetensors. */
    private Map<Architecture, Path> prepareTrainingInputs() throws IOException {
        Map<Architecture, Path> dirs = new LinkedHashMap<>();
        for (Architecture arch : Architecture.values()) {
            Path dir = work.resolve("models").resolve(arch.name().toLowerCase(Locale.ROOT));
            NvlmConfig config = smallPreset(arch);
            if (!Files.exists(dir.resolve("batch.safetensors"))) {
                Nvlm model = Nvlm.create(config, new java.util.SplittableRandom(seed));
                Checkpoint.save(model, dir);
                // Two rows, each one 3x2-tile image: 6 tiles and the thumbnail (bench_train's "6+1").
                Batches.of(config, seed, new int[] {3, 2}, new int[] {3, 2}).write(dir.resolve("batch.safetensors"));
            }
            dirs.put(arch, dir);
            say("PREPARED " + dir);
        }
        return dirs;
    }

    /**
     * The small preset. NVLM-X's projector has no bias whatever the preset says (docs/model.md §4), but
     * config.json would carry the preset's {@code bias: true}, which the PyTorch reference rejects
     * for X: write the config as the model is.
     */
    static NvlmConfig smallPreset(Architecture arch) {
        NvlmConfig c = Presets.get("small", arch);
        if (arch != Architecture.X || !c.projector().bias()) {
            return c;
        }
        return new NvlmConfig(c.architecture(), c.preset(), c.vision(), c.downsampleRatio(),
                new NvlmConfig.ProjectorConfig(c.projector().hiddenSize(), false), c.llm(), c.xattnEvery(), c.tiling(),
                c.tokens());
    }

    private void train() throws IOException {
        Map<Architecture, Path> dirs = prepareTrainingInputs();
        CudaBackend backend = CudaBackend.instance();
        CudaAccelerator gpu = backend.gpu();
        for (Map.Entry<Architecture, Path> e : dirs.entrySet()) {
            Architecture arch = e.getKey();
            for (MatmulPrecision precision : List.of(MatmulPrecision.BF16, MatmulPrecision.F32)) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("arch", arch.name());
                row.put("precision", precision.name());
                MatmulPrecision saved = backend.matmulPrecision();
                backend.setMatmulPrecision(precision);
                try {
                    Nvlm model = Checkpoint.load(e.getValue(), Device.CUDA);
                    model.train(true);
                    Batch batch = Batch.read(e.getValue().resolve("batch.safetensors")).to(Device.CUDA);
                    TrainingStep step = new TrainingStep(model, batch, 1e-5);
                    // Warm-up: the JIT, the allocator's cache and the optimizer's moments settle.
                    float first = step.runAndWait(Device.CUDA);
                    step.runAndWait(Device.CUDA);
                    step.runAndWait(Device.CUDA);
                    Accelerator.Activity before = gpu.activity();
                    double[] seconds = new double[10];
                    float last = 0;
                    for (int i = 0; i < seconds.length; i++) {
                        long started = System.nanoTime();
                        last = step.runAndWait(Device.CUDA);
                        seconds[i] = (System.nanoTime() - started) / 1e9;
                    }
                    Accelerator.Activity per = gpu.activity().since(before);
                    double median = Samples.median(seconds);
                    CachingAllocator.Stats memory = gpu.memoryStats();
                    row.put("samples_per_s", batch.rows() / median);
                    row.put("median_step_ms", median * 1e3);
                    row.put("step_ms_range", List.of(Arrays.stream(seconds).min().orElse(0) * 1e3,
                            Arrays.stream(seconds).max().orElse(0) * 1e3));
                    row.put("launches_per_step", per.launches() / (double) seconds.length);
                    row.put("gemms_per_step", per.gemms() / (double) seconds.length);
                    row.put("copies_per_step", per.copies() / (double) seconds.length);
                    row.put("waits_per_step", per.waits() / (double) seconds.length);
                    row.put("first_loss", first);
                    row.put("last_loss", last);
                    row.put("peak_allocated_mib", memory.peakAllocatedBytes() / 1048576.0);
                    row.put("tokens_per_row", batch.length());
                    row.put("tiles", batch.tiles());
                    say(String.format(Locale.ROOT, "TRAIN small %s %s: %.2f samples/s (median step %.1f ms; %.0f launches,"
                                    + " %.0f GEMMs, %.0f host waits a step; loss %.4f -> %.4f)", arch, precision,
                            batch.rows() / median, median * 1e3, per.launches() / (double) seconds.length,
                            per.gemms() / (double) seconds.length, per.waits() / (double) seconds.length, first, last));
                } catch (RuntimeException | IOException ex) {
                    row.put("error", describe(ex));
                    say("TRAIN " + arch + " " + precision + " FAIL " + describe(ex));
                    ex.printStackTrace(System.out);
                } finally {
                    backend.setMatmulPrecision(saved);
                }
                list("train").add(row);
                System.gc();
            }
        }
    }

    // ------------------------------------------------------------------ (f) NCCL, one rank

    /**
     * The NCCL communicator on this GPU through the real libnccl: one rank (NCCL cannot put two ranks
     * on one GPU, and the GPU machine has no MPI to launch them), so every collective must give its
     * input back bit for bit; then the trainer's data-parallel path, the bucketed gradient all-reduce
     * ({@link Reducer}) over NCCL during an NVLM-D backward pass on the GPU, against a plain backward.
     */
    private void nccl() throws IOException {
        Map<String, Object> result = new LinkedHashMap<>();
        report.put("nccl", result);
        Optional<String> missing = NcclCommunicator.unavailableReason();
        if (missing.isPresent()) {
            result.put("error", "NCCL not loaded: " + missing.get());
            errors().add("nccl: not loaded: " + missing.get());
            say("NCCL FAIL not loaded: " + missing.get());
            return;
        }
        result.put("version", NcclCommunicator.version());
        Random rng = new Random(seed);
        try (NcclCommunicator nccl = NcclCommunicator.oneRank()) {
            for (int n : new int[] {1, 4097, (1 << 20) + 3}) {
                float[] x = new float[n];
                for (int i = 0; i < n; i++) {
                    x[i] = (float) rng.nextGaussian();
                }
                ncclCheck(result, "allReduce sum n=" + n, () -> givesBack(x, t -> {
                    nccl.allReduce(t);
                    return t;
                }));
                ncclCheck(result, "allReduce max n=" + n, () -> givesBack(x, t -> {
                    nccl.allReduce(t, Reduction.MAX);
                    return t;
                }));
                ncclCheck(result, "allReduceAsync n=" + n, () -> givesBack(x, t -> {
                    nccl.allReduceAsync(t).await();
                    return t;
                }));
                ncclCheck(result, "allGather n=" + n, () -> givesBack(x, nccl::allGather));
                ncclCheck(result, "reduceScatter n=" + n, () -> givesBack(x, nccl::reduceScatter));
                ncclCheck(result, "broadcast n=" + n, () -> givesBack(x, t -> {
                    nccl.broadcast(t, 0);
                    return t;
                }));
            }
            ncclCheck(result, "a CPU tensor is refused", () -> {
                try {
                    nccl.allReduce(Tensor.zeros(3));
                    return false;
                } catch (IllegalArgumentException expected) {
                    return expected.getMessage().contains("CUDA tensors");
                }
            });
            Path dir = prepareTrainingInputs().get(Architecture.D);
            ncclCheck(result, "NVLM-D gradients through Reducer over NCCL = plain backward", () -> {
                Batch batch = Batch.read(dir.resolve("batch.safetensors")).to(Device.CUDA);
                Nvlm plain = Checkpoint.load(dir, Device.CUDA);
                Nvlm reduced = Checkpoint.load(dir, Device.CUDA);
                // Gradients are on: every section runs inside GradMode.enabled() (run()).
                plain.forward(batch).loss().backward();
                List<Parameter> params = reduced.trainableParameters();
                // 1 MiB buckets: the small preset's gradients span several, launched during the backward pass.
                Reducer reducer = new Reducer(nccl, params, 1 << 20);
                reducer.begin();
                try (var hooks = reducer.armHooks()) {
                    reduced.forward(batch).loss().backward();
                }
                reducer.launchRemaining();
                reducer.finish();
                result.put("reducer_buckets", reducer.bucketCount());
                result.put("reducer_launched_during_backward", reducer.launchedDuringBackward());
                List<Parameter> expected = plain.trainableParameters();
                for (int i = 0; i < params.size(); i++) {
                    Tensor want = expected.get(i).value().grad();
                    Tensor got = params.get(i).value().grad();
                    if (want == null || got == null ? want != got : !Arrays.equals(want.toFloatArray(), got.toFloatArray())) {
                        return false;
                    }
                }
                return reducer.bucketCount() > 1;
            });
        }
    }

    /** Whether {@code collective} of one rank, on {@code x} moved to the GPU, gives x back bit for bit. */
    private static boolean givesBack(float[] x, UnaryOperator<Tensor> collective) {
        return Arrays.equals(x, collective.apply(Tensor.of(x, x.length).to(Device.CUDA)).toFloatArray());
    }

    /** One NCCL check: true when its result is right. */
    private interface NcclCheck {
        boolean passes() throws IOException;
    }

    private void ncclCheck(Map<String, Object> result, String name, NcclCheck body) {
        @SuppressWarnings("unchecked")
        List<Object> checks = (List<Object>) result.computeIfAbsent("checks", k -> new ArrayList<Object>());
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("name", name);
        try (MemoryScope scope = MemoryScope.open()) {
            boolean passed = body.passes();
            row.put("passed", passed);
            if (!passed) {
                errors().add("nccl: " + name + ": wrong result");
            }
            say("NCCL " + name + (passed ? " PASS" : " FAIL"));
        } catch (RuntimeException | IOException e) {
            row.put("passed", false);
            row.put("error", describe(e));
            errors().add("nccl: " + name + ": " + describe(e));
            say("NCCL " + name + " FAIL " + describe(e));
        }
        checks.add(row);
    }
}
