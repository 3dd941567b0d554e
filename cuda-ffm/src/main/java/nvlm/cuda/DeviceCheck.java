package nvlm.cuda;

import nvlm.cuda.bindings.CudaLibraries;
import nvlm.cuda.bindings.CudaLibrary;
import nvlm.kernels.DType;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The GPU checks of the runtime layer as a plain program (the GPU machine has a JDK but no Maven):
 * {@code java --enable-native-access=ALL-UNNAMED -cp nvlm.jar nvlm.cuda.DeviceCheck [check...]}.
 * Prints one line per check (name, PASS/FAIL, error figure, detail), then a table and BF16 GEMM
 * TFLOP/s; exits 1 if any check failed. The GPU tests call the same checks.
 */
public final class DeviceCheck implements AutoCloseable {

    /** One check's outcome: {@code error} is the figure compared against {@code tolerance} (NaN when none). */
    public record Result(String name, boolean passed, double error, double tolerance, String detail) {
        static Result within(String name, double error, double tolerance, String detail) {
            return new Result(name, error <= tolerance, error, tolerance, detail);
        }

        static Result passedIf(String name, boolean passed, String detail) {
            return new Result(name, passed, Double.NaN, Double.NaN, detail);
        }

        String line() {
            return String.format(Locale.ROOT, "%-28s %s  error=%-10s tol=%-8s %s", name, passed ? "PASS" : "FAIL",
                    Double.isNaN(error) ? "-" : String.format(Locale.ROOT, "%.3e", error),
                    Double.isNaN(tolerance) ? "-" : String.format(Locale.ROOT, "%.0e", tolerance), detail);
        }
    }

    static final String KERNELS = "nvlm/cuda/check_kernels.cu";

    final CudaDevice device;
    final CudaStream stream;
    final Path cacheDir;
    private final SplittableRandom random = new SplittableRandom(20240911);
    // Made on first use, so a missing NVRTC or cuBLAS fails only the checks that need it.
    private CudaModule module;
    private Cublas cublas;
    private CublasLt cublasLt;

    public DeviceCheck() throws IOException {
        device = CudaDevice.open();
        stream = CudaStream.create();
        cacheDir = Files.createTempDirectory("nvlm-kernel-cache");
    }

    /** check_kernels.cu compiled by NVRTC for this device, through a fresh kernel cache. */
    CudaModule module() {
        if (module == null) {
            try {
                module = Nvrtc.load(device, kernelSource(), "check_kernels.cu", List.of(), new KernelCache(cacheDir));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return module;
    }

    Cublas cublas() {
        if (cublas == null) {
            cublas = Cublas.create(stream);
        }
        return cublas;
    }

    CublasLt cublasLt() {
        if (cublasLt == null) {
            cublasLt = CublasLt.create(stream);
        }
        return cublasLt;
    }

    public static String kernelSource() throws IOException {
        try (InputStream in = DeviceCheck.class.getClassLoader().getResourceAsStream(KERNELS)) {
            if (in == null) {
                throw new IOException("resource " + KERNELS + " missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Every check by name, in the order the program runs them. */
    public Map<String, Function<DeviceCheck, Result>> checks() {
        var checks = new LinkedHashMap<String, Function<DeviceCheck, Result>>();
        checks.put("device", DeviceCheck::deviceQuery);
        checks.put("copy-round-trip", DeviceCheck::copyRoundTrip);
        checks.put("nvrtc-cache", DeviceCheck::nvrtcCache);
        checks.put("vector-add", DeviceCheck::vectorAdd);
        checks.put("scalar-args", DeviceCheck::scalarArguments);
        checks.put("random-fill", DeviceCheck::randomFill);
        checks.put("dynamic-shared-64k", DeviceCheck::dynamicSharedMemory);
        checks.put("event-timing", DeviceCheck::eventTiming);
        checks.put("graph-replay", DeviceCheck::graphReplay);
        checks.put("caching-allocator", DeviceCheck::cachingAllocator);
        checks.put("gemm-f32", c -> c.gemm(DType.F32, DType.F32, GemmCompute.F32, 1e-5));
        // TF32 rounds inputs to 10-bit mantissas: about 4e-4 relative when rounding to nearest,
        // twice that if the conversion truncates; 2e-3 admits either.
        checks.put("gemm-tf32", c -> c.gemm(DType.F32, DType.F32, GemmCompute.TF32, 2e-3));
        // bf16 products are exact in f32, so against a reference over the same bf16 inputs the
        // error is f32 accumulation (~1e-6) for f32 output, bf16 output rounding (2^-9) otherwise.
        checks.put("gemm-bf16-f32out", c -> c.gemm(DType.BF16, DType.F32, GemmCompute.F32, 1e-4));
        checks.put("gemm-bf16-bf16out", c -> c.gemm(DType.BF16, DType.BF16, GemmCompute.F32, 1e-2));
        checks.put("gemm-f16-f32out", c -> c.gemm(DType.F16, DType.F32, GemmCompute.F32, 1e-4));
        checks.put("gemm-strided-batched", DeviceCheck::gemmStridedBatched);
        checks.put("lt-bias-f32", c -> c.ltEpilogue(Epilogue.BIAS, DType.F32, DType.F32, DType.F32, 1e-5));
        checks.put("lt-gelu-bias-f32", c -> c.ltEpilogue(Epilogue.GELU_BIAS, DType.F32, DType.F32, DType.F32, 1e-3));
        checks.put("lt-gelu-bias-bf16", c -> c.ltEpilogue(Epilogue.GELU_BIAS, DType.BF16, DType.BF16, DType.BF16, 1e-2));
        checks.put("lt-bias-bf16-f32bias", c -> c.ltEpilogue(Epilogue.BIAS, DType.BF16, DType.BF16, DType.F32, 1e-2));
        return checks;
    }

    public static void main(String[] args) throws Exception {
        System.out.println("nvlm DeviceCheck: java " + Runtime.version());
        if (!Cuda.isAvailable()) {
            System.out.println("CUDA unavailable: " + Cuda.unavailableReason().orElse("?"));
            System.exit(2);
        }
        var results = new ArrayList<Result>();
        try (DeviceCheck check = new DeviceCheck()) {
            boolean reported = false;
            for (CudaLibrary library : CudaLibrary.values()) {
                var reason = CudaLibraries.unavailableReason(library);
                System.out.println("library " + library + ": " + CudaLibraries.location(library).orElse("NOT FOUND"));
                if (reason.isPresent() && !reported) {
                    System.out.println(reason.get());
                    reported = true;
                }
            }
            var wanted = Arrays.asList(args);
            for (var entry : check.checks().entrySet()) {
                if (!wanted.isEmpty() && !wanted.contains(entry.getKey()) && !wanted.contains("all")) {
                    continue;
                }
                Result result = run(check, entry.getKey(), entry.getValue());
                results.add(result);
                System.out.println("CHECK " + result.line());
            }
            if (wanted.isEmpty() || wanted.contains("bench")) {
                check.benchmarks().forEach(System.out::println);
            }
        }
        System.out.println();
        System.out.println(String.format(Locale.ROOT, "%-28s %-6s %-10s %-8s", "check", "result", "error", "tol"));
        for (Result r : results) {
            System.out.println(String.format(Locale.ROOT, "%-28s %-6s %-10s %-8s", r.name(), r.passed() ? "PASS" : "FAIL",
                    Double.isNaN(r.error()) ? "-" : String.format(Locale.ROOT, "%.3e", r.error()),
                    Double.isNaN(r.tolerance()) ? "-" : String.format(Locale.ROOT, "%.0e", r.tolerance())));
        }
        long failed = results.stream().filter(r -> !r.passed()).count();
        System.out.println(failed == 0 ? "ALL " + results.size() + " CHECKS PASSED" : failed + " CHECK(S) FAILED");
        System.exit(failed == 0 ? 0 : 1);
    }

    /** Runs one check, turning an exception into a FAIL line that carries its message. */
    public static Result run(DeviceCheck check, String name, Function<DeviceCheck, Result> body) {
        try {
            return body.apply(check);
        } catch (RuntimeException | LinkageError e) {
            // First line only: a missing library's full search report is printed once at the start.
            return Result.passedIf(name, false, e.getClass().getSimpleName() + ": "
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
    }

    // ---- checks ----

    Result deviceQuery() {
        int sms = device.multiprocessorCount();
        long total = device.totalMemory();
        var memory = device.memoryInfo();
        String detail = String.format(Locale.ROOT,
                "%s, %s, %d SMs, %.1f GiB (%.1f free), smem opt-in %d B, driver %d, nvrtc %s, cublas %s, cublasLt %s",
                device.name(), device.arch(), sms, total / 1073741824.0, memory.free() / 1073741824.0,
                device.maxSharedMemoryPerBlockOptin(), Cuda.driverVersion(),
                versionOrReason(() -> Arrays.toString(Nvrtc.version())), versionOrReason(() -> cublas().version()),
                versionOrReason(CublasLt::version));
        return Result.passedIf("device", sms > 0 && total > 0 && memory.free() <= memory.total(), detail);
    }

    Result copyRoundTrip() {
        int bytes = (1 << 20) + 3;
        byte[] data = new byte[bytes];
        random.nextBytes(data);
        try (DeviceBuffer a = DeviceBuffer.allocate(bytes); DeviceBuffer b = DeviceBuffer.allocate(bytes);
             PinnedBuffer pinned = PinnedBuffer.allocate(bytes)) {
            a.copyFrom(MemorySegment.ofArray(data));
            b.copyFrom(a);
            byte[] back = new byte[bytes];
            b.copyTo(MemorySegment.ofArray(back));
            boolean sync = Arrays.equals(data, back);
            // Async through pinned memory: D2H of b, then H2D into a after zeroing it.
            a.fillAsync((byte) 0, stream);
            b.copyToAsync(pinned.segment(), stream);
            a.copyFromAsync(pinned.segment(), stream);
            stream.synchronize();
            byte[] async = new byte[bytes];
            a.copyTo(MemorySegment.ofArray(async));
            boolean asyncOk = Arrays.equals(data, async);
            // memset: bytes, then 32-bit words.
            a.fill((byte) 0x5a);
            a.copyTo(MemorySegment.ofArray(back));
            boolean d8 = allEqual(back, (byte) 0x5a);
            try (DeviceBuffer words = DeviceBuffer.allocate(4096)) {
                words.fill32(Float.floatToIntBits(1.5f));
                float[] f = new float[1024];
                words.copyTo(MemorySegment.ofArray(f));
                boolean d32 = allEqual(f, 1.5f);
                return Result.passedIf("copy-round-trip", sync && asyncOk && d8 && d32, String.format(Locale.ROOT,
                        "%d bytes: sync %s, async via pinned %s, memsetD8 %s, memsetD32 %s", bytes, sync, asyncOk, d8,
                        d32));
            }
        }
    }

    Result nvrtcCache() {
        module();
        try (var files = Files.list(cacheDir)) {
            List<Path> entries = files.filter(p -> p.toString().endsWith(".bin")).toList();
            if (entries.size() != 1) {
                return Result.passedIf("nvrtc-cache", false, "expected one cache entry, found " + entries);
            }
            byte[] image = Files.readAllBytes(entries.getFirst());
            // Loading again must come from the cache (same key) and give a working module.
            try (CudaModule again = Nvrtc.load(device, kernelSource(), "check_kernels.cu", List.of(),
                    new KernelCache(cacheDir))) {
                again.kernel("vector_add");
                return Result.passedIf("nvrtc-cache", CudaModule.isElf(image), String.format(Locale.ROOT,
                        "%s, %d-byte %s image cached and reloaded", device.arch(), image.length,
                        CudaModule.isElf(image) ? "CUBIN" : "PTX"));
            }
        } catch (IOException e) {
            return Result.passedIf("nvrtc-cache", false, e.toString());
        }
    }

    Result vectorAdd() {
        int n = (1 << 20) + 7;
        float[] a = randomFloats(n, 1f);
        float[] b = randomFloats(n, 1f);
        try (DeviceBuffer da = upload(a); DeviceBuffer db = upload(b); DeviceBuffer dc = DeviceBuffer.allocate(4L * n)) {
            module().kernel("vector_add").launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, da, db, dc, (long) n);
            stream.synchronize();
            float[] c = download(dc, n);
            int mismatches = 0;
            for (int i = 0; i < n; i++) {
                if (c[i] != a[i] + b[i]) {
                    mismatches++;
                }
            }
            return Result.within("vector-add", mismatches, 0, n + " elements, mismatches vs Java (exact)");
        }
    }

    Result scalarArguments() {
        int n = 100_003;
        float[] x = randomFloats(n, 2f);
        float[] y = randomFloats(n, 2f);
        float alpha = 0.75f;
        float beta = -1.25f;
        try (DeviceBuffer dx = upload(x); DeviceBuffer dy = upload(y)) {
            module().kernel("axpby").launch(Dim3.covering(n, 128), Dim3.of(128), 0, stream,
                    KernelArgs.of(alpha, dx, beta, dy, n));
            stream.synchronize();
            float[] out = download(dy, n);
            int mismatches = 0;
            for (int i = 0; i < n; i++) {
                if (out[i] != alpha * x[i] + beta * y[i]) {
                    mismatches++;
                }
            }
            return Result.within("scalar-args", mismatches, 0, "axpby(float, ptr, float, ptr, int): mismatches");
        }
    }

    Result randomFill() {
        int n = 1_000_003;
        int seed = 12345;
        float scale = 0.5f;
        try (DeviceBuffer f32 = DeviceBuffer.allocate(4L * n); DeviceBuffer bf16 = DeviceBuffer.allocate(2L * n)) {
            fillUniform(f32, DType.F32, n, seed, scale);
            fillUniform(bf16, DType.BF16, n, seed, scale);
            stream.synchronize();
            float[] values = download(f32, n);
            short[] bits = new short[n];
            bf16.copyTo(MemorySegment.ofArray(bits));
            int mismatches = 0;
            for (int i = 0; i < n; i++) {
                float expected = uniform(i, seed) * scale;
                if (values[i] != expected || bits[i] != DType.floatToBf16(expected)) {
                    mismatches++;
                }
            }
            return Result.within("random-fill", mismatches, 0, "f32 and bf16 fills vs the Java hash: mismatches");
        }
    }

    Result dynamicSharedMemory() {
        int chunk = 16 * 1024; // 64 KiB of floats per block: above the 48 KiB default
        int blocks = 37;
        int n = chunk * blocks;
        float[] in = randomFloats(n, 1f);
        try (DeviceBuffer din = upload(in); DeviceBuffer dout = DeviceBuffer.allocate(4L * n)) {
            CudaKernel kernel = module().kernel("reverse_chunks");
            kernel.launch(Dim3.of(blocks), Dim3.of(256), chunk * 4, stream, din, dout, chunk);
            stream.synchronize();
            float[] out = download(dout, n);
            int mismatches = 0;
            for (int blk = 0; blk < blocks; blk++) {
                for (int i = 0; i < chunk; i++) {
                    if (out[blk * chunk + i] != in[blk * chunk + chunk - 1 - i]) {
                        mismatches++;
                    }
                }
            }
            return Result.within("dynamic-shared-64k", mismatches, 0, "MAX_DYNAMIC_SHARED_SIZE_BYTES now "
                    + kernel.attribute(nvlm.cuda.bindings.cuda_h.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES())
                    + " B; mismatches");
        }
    }

    Result eventTiming() {
        int n = 1 << 24;
        try (DeviceBuffer buffer = DeviceBuffer.allocate(4L * n); CudaEvent start = CudaEvent.create(true);
             CudaEvent end = CudaEvent.create(true)) {
            start.record(stream);
            for (int i = 0; i < 20; i++) {
                fillUniform(buffer, DType.F32, n, i, 1f);
            }
            end.record(stream);
            end.synchronize();
            float millis = end.elapsedMillisSince(start);
            double gbps = 20.0 * 4 * n / (millis * 1e6);
            return Result.passedIf("event-timing", millis > 0 && Float.isFinite(millis), String.format(Locale.ROOT,
                    "20 fills of 64 MiB: %.3f ms (%.0f GB/s written)", millis, gbps));
        }
    }

    Result graphReplay() {
        int n = 50_000;
        float[] a = randomFloats(n, 1f);
        float[] b = randomFloats(n, 1f);
        try (DeviceBuffer da = upload(a); DeviceBuffer db = upload(b); DeviceBuffer dc = DeviceBuffer.allocate(4L * n)) {
            dc.fill32(0);
            CudaKernel add = module().kernel("vector_add");
            CudaKernel axpby = module().kernel("axpby");
            // c = a + b; then a = 0.5 a + 1 * c: each replay changes a, so replays are observable.
            try (CudaGraph graph = CudaGraph.capture(stream, () -> {
                add.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, da, db, dc, (long) n);
                axpby.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, 1.0f, dc, 0.5f, da, n);
            })) {
                int replays = 3;
                for (int r = 0; r < replays; r++) {
                    graph.launch(stream);
                }
                stream.synchronize();
                float[] expectedA = a.clone();
                float[] expectedC = new float[n];
                for (int r = 0; r < replays; r++) {
                    for (int i = 0; i < n; i++) {
                        expectedC[i] = expectedA[i] + b[i];
                        expectedA[i] = 1.0f * expectedC[i] + 0.5f * expectedA[i];
                    }
                }
                float[] gotA = download(da, n);
                float[] gotC = download(dc, n);
                int mismatches = 0;
                for (int i = 0; i < n; i++) {
                    if (gotA[i] != expectedA[i] || gotC[i] != expectedC[i]) {
                        mismatches++;
                    }
                }
                return Result.within("graph-replay", mismatches, 0, "2-kernel graph replayed 3 times: mismatches");
            }
        }
    }

    Result cachingAllocator() {
        try (CachingAllocator allocator = CachingAllocator.onCurrentDevice(); CudaStream other = CudaStream.create()) {
            DeviceBuffer first = allocator.allocate(3 << 20, stream);
            long address = first.address();
            first.copyFrom(MemorySegment.ofArray(new byte[3 << 20]));
            first.close();
            DeviceBuffer again = allocator.allocate((3 << 20) - 1000, stream);
            boolean sameStreamReuse = again.address() == address;
            again.close();
            stream.synchronize();
            // Another stream may take the block once the freeing stream's event has completed.
            DeviceBuffer cross = allocator.allocate(3 << 20, other);
            boolean crossReuse = cross.address() == address;
            var stats = allocator.stats();
            cross.close();
            long reservedBefore = allocator.stats().reservedBytes();
            allocator.emptyCache();
            var after = allocator.stats();
            boolean ok = sameStreamReuse && crossReuse && stats.driverAllocations() == 1 && stats.cacheHits() == 2
                    && reservedBefore == 4L << 20 && after.reservedBytes() == 0 && after.allocatedBytes() == 0;
            return Result.passedIf("caching-allocator", ok, String.format(Locale.ROOT,
                    "same-stream reuse %s, cross-stream reuse after sync %s, driver allocations %d, hits %d,"
                            + " reserved %d -> %d after emptyCache",
                    sameStreamReuse, crossReuse, stats.driverAllocations(), stats.cacheHits(), reservedBefore,
                    after.reservedBytes()));
        }
    }

    Result gemm(DType input, DType output, GemmCompute compute, double tolerance) {
        String name = "gemm-" + (compute == GemmCompute.TF32 ? "tf32" : input.name().toLowerCase(Locale.ROOT)
                + (input == DType.F32 ? "" : "-" + output.name().toLowerCase(Locale.ROOT) + "out"));
        double worst = 0;
        var details = new ArrayList<String>();
        // Odd sizes, every transpose combination, and a padded leading dimension.
        RowMajorGemm[] shapes = {
                RowMajorGemm.of(127, 65, 259), RowMajorGemm.linear(64, 129, 96), RowMajorGemm.of(true, false, 33, 70, 51),
                RowMajorGemm.of(true, true, 17, 8, 300), new RowMajorGemm(false, false, 40, 24, 36, 40, 30, 32)};
        for (RowMajorGemm shape : shapes) {
            float[] a = roundTo(input, randomFloats((int) shape.elementsA(), 1f));
            float[] b = roundTo(input, randomFloats((int) shape.elementsB(), 1f));
            float[] c0 = roundTo(output, randomFloats((int) shape.elementsC(), 1f));
            float alpha = 1.25f;
            float beta = 0.5f;
            try (DeviceBuffer da = upload(a, input); DeviceBuffer db = upload(b, input);
                 DeviceBuffer dc = upload(c0, output)) {
                cublas().gemm(shape, da, db, dc, input, output, alpha, beta, compute);
                stream.synchronize();
                float[] got = download(dc, (int) shape.elementsC(), output);
                double[] expected = referenceGemm(shape, a, b, c0, alpha, beta);
                double error = relativeError(shape, got, expected);
                worst = Math.max(worst, error);
                details.add(String.format(Locale.ROOT, "%s%s %dx%dx%d: %.1e", shape.transA() ? "T" : "N",
                        shape.transB() ? "T" : "N", shape.m(), shape.n(), shape.k(), error));
            }
        }
        return Result.within(name, worst, tolerance, "relative Frobenius vs double reference; " + details);
    }

    Result gemmStridedBatched() {
        RowMajorGemm shape = RowMajorGemm.linear(31, 45, 77);
        int batch = 5;
        long strideA = shape.elementsA() + 3;
        long strideB = shape.elementsB() + 5;
        long strideC = shape.elementsC() + 7;
        float[] a = randomFloats((int) (strideA * batch), 1f);
        float[] b = randomFloats((int) (strideB * batch), 1f);
        float[] c = new float[(int) (strideC * batch)];
        try (DeviceBuffer da = upload(a); DeviceBuffer db = upload(b); DeviceBuffer dc = upload(c)) {
            cublas().gemmStridedBatched(shape, batch, strideA, strideB, strideC, da, db, dc, DType.F32, DType.F32, 1f, 0f,
                    GemmCompute.F32);
            stream.synchronize();
            float[] got = download(dc, c.length);
            double worst = 0;
            for (int i = 0; i < batch; i++) {
                double[] expected = referenceGemm(shape,
                        Arrays.copyOfRange(a, (int) (i * strideA), (int) (i * strideA + shape.elementsA())),
                        Arrays.copyOfRange(b, (int) (i * strideB), (int) (i * strideB + shape.elementsB())),
                        new float[(int) shape.elementsC()], 1f, 0f);
                worst = Math.max(worst, relativeError(shape,
                        Arrays.copyOfRange(got, (int) (i * strideC), (int) (i * strideC + shape.elementsC())), expected));
            }
            return Result.within("gemm-strided-batched", worst, 1e-5, "f32 linear 31x45x77 x5 with gaps between matrices");
        }
    }

    Result ltEpilogue(Epilogue epilogue, DType input, DType output, DType biasType, double tolerance) {
        String name = "lt-" + epilogue.name().toLowerCase(Locale.ROOT).replace('_', '-') + "-"
                + input.name().toLowerCase(Locale.ROOT) + (biasType != output ? "-f32bias" : "");
        RowMajorGemm shape = RowMajorGemm.linear(96, 136, 72);
        // Pre-activations of a few units, so tanh- and erf-GELU differ measurably.
        float[] x = roundTo(input, randomFloats((int) shape.elementsA(), 1f));
        float[] w = roundTo(input, randomFloats((int) shape.elementsB(), 0.4f));
        float[] bias = roundTo(biasType, randomFloats(shape.n(), 1f));
        try (DeviceBuffer dx = upload(x, input); DeviceBuffer dw = upload(w, input);
             DeviceBuffer db = upload(bias, biasType);
             DeviceBuffer dy = DeviceBuffer.allocate(shape.elementsC() * output.byteSize())) {
            cublasLt().matmul(shape, dx, dw, dy, input, output, epilogue, db, biasType, GemmCompute.F32);
            stream.synchronize();
            float[] got = download(dy, (int) shape.elementsC(), output);
            double[] linear = referenceGemm(shape, x, w, new float[(int) shape.elementsC()], 1f, 0f);
            for (int i = 0; i < shape.m(); i++) {
                for (int j = 0; j < shape.n(); j++) {
                    linear[i * shape.n() + j] += bias[j];
                }
            }
            if (epilogue == Epilogue.BIAS) {
                return Result.within(name, relativeError(shape, got, linear), tolerance,
                        "Y = X W^T + b (" + input + " in, " + output + " out, " + biasType + " bias)");
            }
            double[] tanhForm = linear.clone();
            double[] erfForm = linear.clone();
            for (int i = 0; i < linear.length; i++) {
                tanhForm[i] = geluTanh(linear[i]);
                erfForm[i] = geluErf(linear[i]);
            }
            double tanhError = relativeError(shape, got, tanhForm);
            double erfError = relativeError(shape, got, erfForm);
            double formsApart = relativeError(shape, toFloats(tanhForm), erfForm);
            return Result.within(name, Math.min(tanhError, erfError), tolerance, String.format(Locale.ROOT,
                    "GELU form: %s (error vs tanh %.2e, vs erf %.2e; the forms differ by %.2e)",
                    tanhError < erfError ? "TANH" : "ERF", tanhError, erfError, formsApart));
        }
    }

    /** BF16 GEMM throughput, timed with events: 3 warm-ups, median of 10 timed runs, random non-zero inputs. */
    public List<String> benchmarks() {
        var lines = new ArrayList<String>();
        for (int[] mnk : new int[][] {{4096, 4096, 4096}, {8192, 8192, 8192}}) {
            for (boolean linear : new boolean[] {false, true}) {
                RowMajorGemm shape = linear ? RowMajorGemm.linear(mnk[0], mnk[1], mnk[2])
                        : RowMajorGemm.of(mnk[0], mnk[1], mnk[2]);
                try (DeviceBuffer a = DeviceBuffer.allocate(shape.elementsA() * 2);
                     DeviceBuffer b = DeviceBuffer.allocate(shape.elementsB() * 2);
                     DeviceBuffer c = DeviceBuffer.allocate(shape.elementsC() * 2);
                     CudaEvent start = CudaEvent.create(true); CudaEvent end = CudaEvent.create(true)) {
                    fillUniform(a, DType.BF16, shape.elementsA(), 1, 1f);
                    fillUniform(b, DType.BF16, shape.elementsB(), 2, 1f);
                    float[] millis = new float[10];
                    for (int r = -3; r < millis.length; r++) {
                        start.record(stream);
                        cublas().gemm(shape, a, b, c, DType.BF16, DType.BF16, 1f, 0f, GemmCompute.F32);
                        end.record(stream);
                        end.synchronize();
                        if (r >= 0) {
                            millis[r] = end.elapsedMillisSince(start);
                        }
                    }
                    Arrays.sort(millis);
                    double median = (millis[4] + millis[5]) / 2.0;
                    double tflops = 2.0 * mnk[0] * mnk[1] * mnk[2] / (median * 1e-3) / 1e12;
                    lines.add(String.format(Locale.ROOT,
                            "BENCH gemm-bf16 %s %dx%dx%d: median %.3f ms (min %.3f, max %.3f) = %.1f TFLOP/s",
                            linear ? "NT(linear)" : "NN", mnk[0], mnk[1], mnk[2], median, millis[0], millis[9], tflops));
                } catch (RuntimeException | LinkageError e) {
                    lines.add("BENCH gemm-bf16 " + (linear ? "NT(linear) " : "NN ") + mnk[0] + "x" + mnk[1] + "x" + mnk[2]
                            + " failed: "
                            + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
                }
            }
        }
        return lines;
    }

    // ---- references and helpers ----

    private static String versionOrReason(java.util.function.Supplier<Object> version) {
        try {
            return String.valueOf(version.get());
        } catch (RuntimeException | LinkageError e) {
            return "unavailable (" + e.getClass().getSimpleName() + ")";
        }
    }

    /** The hash fill of check_kernels.cu, reproduced bit for bit. */
    public static float uniform(long i, int seed) {
        int h = (int) i * 0x9E3779B1 ^ (int) (i >> 32) * 0x85EBCA77 ^ seed;
        h ^= h >>> 16;
        h *= 0x7feb352d;
        h ^= h >>> 15;
        h *= 0x846ca68b;
        h ^= h >>> 16;
        return (float) (h >>> 8) * (2.0f / 16777216.0f) - 1.0f;
    }

    void fillUniform(DeviceBuffer buffer, DType type, long n, int seed, float scale) {
        module().kernel(type == DType.BF16 ? "fill_uniform_bf16" : "fill_uniform_f32")
                .launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, buffer, n, seed, scale);
    }

    /** Row-major reference in double: alpha op(A) op(B) + beta C. */
    static double[] referenceGemm(RowMajorGemm s, float[] a, float[] b, float[] c, float alpha, float beta) {
        double[] out = new double[(int) s.elementsC()];
        for (int i = 0; i < s.m(); i++) {
            for (int j = 0; j < s.n(); j++) {
                double sum = 0;
                for (int p = 0; p < s.k(); p++) {
                    double av = s.transA() ? a[p * s.lda() + i] : a[i * s.lda() + p];
                    double bv = s.transB() ? b[j * s.ldb() + p] : b[p * s.ldb() + j];
                    sum += av * bv;
                }
                out[i * s.ldc() + j] = alpha * sum + beta * c[i * s.ldc() + j];
            }
        }
        return out;
    }

    /** ||got - expected|| / ||expected|| over the m x n result (padding columns excluded). */
    static double relativeError(RowMajorGemm s, float[] got, double[] expected) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < s.m(); i++) {
            for (int j = 0; j < s.n(); j++) {
                int at = i * s.ldc() + j;
                diff += (got[at] - expected[at]) * (got[at] - expected[at]);
                norm += expected[at] * expected[at];
            }
        }
        return Math.sqrt(diff / norm);
    }

    static double geluTanh(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    static double geluErf(double x) {
        return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    /** erf by its Taylor series (|x| < 3) or continued fraction tail; |error| below 1e-13 on that range. */
    static double erf(double x) {
        double ax = Math.abs(x);
        double result;
        if (ax < 3) {
            double term = ax;
            double sum = ax;
            for (int n = 1; n < 100; n++) {
                term *= -ax * ax / n;
                sum += term / (2 * n + 1);
                if (Math.abs(term) < 1e-17) {
                    break;
                }
            }
            result = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            double fraction = 0;
            for (int n = 60; n >= 1; n--) {
                fraction = n / 2.0 / (ax + fraction);
            }
            result = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + fraction);
        }
        return Math.copySign(result, x);
    }

    float[] randomFloats(int n, float scale) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextDouble(-1, 1) * scale);
        }
        return values;
    }

    static float[] roundTo(DType type, float[] values) {
        float[] out = values.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (type) {
                case BF16 -> DType.bf16ToFloat(DType.floatToBf16(out[i]));
                case F16 -> DType.f16ToFloat(DType.floatToF16(out[i]));
                default -> out[i];
            };
        }
        return out;
    }

    static float[] toFloats(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }

    static DeviceBuffer upload(float[] values) {
        return upload(values, DType.F32);
    }

    static DeviceBuffer upload(float[] values, DType type) {
        DeviceBuffer buffer = DeviceBuffer.allocate(Math.max(1, (long) values.length * type.byteSize()));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(Math.max(1, (long) values.length * type.byteSize()), 16);
            for (int i = 0; i < values.length; i++) {
                switch (type) {
                    case F32 -> host.setAtIndex(JAVA_FLOAT, i, values[i]);
                    case BF16 -> host.setAtIndex(JAVA_SHORT, i, DType.floatToBf16(values[i]));
                    case F16 -> host.setAtIndex(JAVA_SHORT, i, DType.floatToF16(values[i]));
                    default -> throw new IllegalArgumentException("upload of " + type);
                }
            }
            buffer.copyFrom(host);
        }
        return buffer;
    }

    static float[] download(DeviceBuffer buffer, int n) {
        return download(buffer, n, DType.F32);
    }

    static float[] download(DeviceBuffer buffer, int n, DType type) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(Math.max(1, (long) n * type.byteSize()), 16);
            buffer.slice(0, (long) n * type.byteSize()).copyTo(host.asSlice(0, (long) n * type.byteSize()));
            float[] out = new float[n];
            for (int i = 0; i < n; i++) {
                out[i] = switch (type) {
                    case F32 -> host.getAtIndex(JAVA_FLOAT, i);
                    case BF16 -> DType.bf16ToFloat(host.getAtIndex(JAVA_SHORT, i));
                    case F16 -> DType.f16ToFloat(host.getAtIndex(JAVA_SHORT, i));
                    default -> throw new IllegalArgumentException("download of " + type);
                };
            }
            return out;
        }
    }

    private static boolean allEqual(byte[] values, byte expected) {
        for (byte v : values) {
            if (v != expected) {
                return false;
            }
        }
        return true;
    }

    private static boolean allEqual(float[] values, float expected) {
        for (float v : values) {
            if (v != expected) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        stream.synchronize();
        if (cublasLt != null) {
            cublasLt.close();
        }
        if (cublas != null) {
            cublas.close();
        }
        if (module != null) {
            module.close();
        }
        stream.close();
        device.close();
        try (var files = Files.list(cacheDir)) {
            for (Path file : files.toList()) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(cacheDir);
        } catch (IOException e) {
            System.err.println("could not remove " + cacheDir + ": " + e.getMessage());
        }
    }

}
