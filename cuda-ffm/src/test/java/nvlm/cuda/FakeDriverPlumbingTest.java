package nvlm.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static nvlm.cuda.bindings.cuda_h.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The FFM plumbing of the runtime (downcalls, out-parameters, C strings, kernelParams, error
 * texts, the caching allocator over the driver) run against src/test/c/fake_cuda_driver.c, a
 * host-memory stand-in for libcuda compiled here against the real cuda.h. It runs in a child JVM
 * pointed at the fake with -Dnvlm.cuda.libpath, so this JVM's library state stays untouched.
 * This is not a GPU test: CudaGpuTest checks the real driver.
 */
class FakeDriverPlumbingTest {

    @TempDir
    Path dir;

    @Test
    void runtimeDrivesTheFakeDriverThroughEveryKindOfCall() throws Exception {
        Optional<Path> gcc = Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":"))
                .filter(d -> !d.isEmpty()).map(d -> Path.of(d, "gcc")).filter(Files::isExecutable).findFirst();
        Path header = Path.of("/usr/local/cuda/include/cuda.h");
        assumeTrue(gcc.isPresent() && Files.isRegularFile(header), "needs gcc and " + header);
        Path source = Path.of("src/test/c/fake_cuda_driver.c").toAbsolutePath();
        assumeTrue(Files.isRegularFile(source), "run from the cuda-ffm module folder: " + source + " missing");
        Path library = dir.resolve("libcuda.so.1");
        run(List.of(gcc.get().toString(), "-Wall", "-Werror", "-shared", "-fPIC", "-I", header.getParent().toString(),
                source.toString(), "-o", library.toString()));
        String java = ProcessHandle.current().info().command().orElse("java");
        String output = run(List.of(java, "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
                "-Dnvlm.cuda.libpath=" + dir, "-cp", System.getProperty("java.class.path"), Child.class.getName()));
        assertTrue(output.contains("PLUMBING OK"), output);
    }

    private static String run(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "timed out: " + command);
        assertEquals(0, process.exitValue(), command.getFirst() + " failed:\n" + output);
        return output;
    }

    /** The child JVM's checks; any failed expectation exits non-zero with its message. */
    public static final class Child {
        static void expect(boolean condition, String what) {
            if (!condition) {
                throw new AssertionError(what);
            }
        }

        static <T extends Throwable> T expectThrows(Class<T> type, Runnable body) {
            try {
                body.run();
            } catch (Throwable t) {
                if (type.isInstance(t)) {
                    return type.cast(t);
                }
                throw new AssertionError("expected " + type.getSimpleName() + ", got " + t, t);
            }
            throw new AssertionError("expected " + type.getSimpleName() + ", nothing thrown");
        }

        public static void main(String[] args) {
            expect(Cuda.isAvailable(), "fake driver found: " + Cuda.unavailableReason());
            expect(Cuda.driverVersion() == 13000, "driver version");
            try (CudaDevice device = CudaDevice.open(0); CudaStream stream = CudaStream.create()) {
                expect(device.name().equals("Fake CUDA Device"), "name " + device.name());
                expect(device.multiprocessorCount() == 132, "SM count");
                expect(device.arch().equals("sm_90"), "arch " + device.arch());
                expect(device.maxSharedMemoryPerBlockOptin() == 232448, "smem opt-in");
                expect(device.totalMemory() == 1L << 30, "total memory");

                int n = 1000;
                float[] a = new float[n];
                float[] b = new float[n];
                for (int i = 0; i < n; i++) {
                    a[i] = i * 0.5f;
                    b[i] = 1000 - i;
                }
                try (DeviceBuffer da = DeviceBuffer.allocate(4L * n); DeviceBuffer db = DeviceBuffer.allocate(4L * n);
                     DeviceBuffer dc = DeviceBuffer.allocate(4L * n); PinnedBuffer pinned = PinnedBuffer.allocate(4L * n)) {
                    expect(device.memoryInfo().free() == (1L << 30) - 12L * n, "free memory after 3 buffers");
                    da.copyFrom(MemorySegment.ofArray(a));
                    pinned.segment().copyFrom(MemorySegment.ofArray(b));
                    db.copyFromAsync(pinned.segment(), stream);
                    float[] back = new float[n];
                    da.copyTo(MemorySegment.ofArray(back));
                    expect(Arrays.equals(a, back), "host -> device -> host");

                    try (CudaModule module = CudaModule.load("fake image".getBytes(StandardCharsets.US_ASCII), "fake")) {
                        CudaKernel add = module.kernel("vector_add");
                        add.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, da, db, dc, (long) n);
                        dc.copyToAsync(pinned.segment(), stream);
                        stream.synchronize();
                        for (int i = 0; i < n; i++) {
                            expect(pinned.segment().getAtIndex(JAVA_FLOAT, i) == a[i] + b[i], "c[" + i + "]");
                        }
                        add.launch(Dim3.of(1), Dim3.of(1), 64 * 1024, stream, da, db, dc, 1L);
                        expect(add.attribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES()) == 64 * 1024,
                                "dynamic shared memory raised before a 64 KiB launch");
                        var missing = expectThrows(CudaDriverException.class, () -> module.kernel("missing"));
                        expect(missing.getMessage().contains("cuModuleGetFunction(missing in fake)")
                                && missing.getMessage().contains("CUDA_ERROR_NOT_FOUND (500): named symbol not found (fake)"),
                                missing.getMessage());
                    }
                    var jit = expectThrows(CudaDriverException.class,
                            () -> CudaModule.load("bad ptx".getBytes(StandardCharsets.US_ASCII), "bad.ptx"));
                    expect(jit.getMessage().contains("ptxas fatal: fake JIT error"), jit.getMessage());

                    dc.fill32(Float.floatToIntBits(2.5f));
                    dc.copyTo(MemorySegment.ofArray(back));
                    expect(back[0] == 2.5f && back[n - 1] == 2.5f, "memsetD32");
                    dc.slice(4, 4).fill((byte) 0);
                    dc.copyTo(MemorySegment.ofArray(back));
                    expect(back[1] == 0f && back[2] == 2.5f, "memsetD8 on a slice");
                }
                var oom = expectThrows(CudaDriverException.class, () -> DeviceBuffer.allocate(2L << 30));
                expect(oom.getMessage().equals("cuMemAlloc_v2(2147483648 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2):"
                        + " out of memory (fake)"), oom.getMessage());
                expect(CudaDriverException.of(999, "probe").getMessage().contains("CUresult 999"), "unknown code");

                try (CudaEvent start = CudaEvent.create(true); CudaEvent end = CudaEvent.create(true)) {
                    start.record(stream);
                    end.record(stream);
                    end.synchronize();
                    expect(end.elapsedMillisSince(start) == 1.5f, "elapsed time out-parameter");
                    expect(end.isDone() && stream.isDone(), "queries");
                }

                try (CachingAllocator allocator = CachingAllocator.onCurrentDevice()) {
                    DeviceBuffer big = allocator.allocate(600L << 20, stream);
                    DeviceBuffer cached = allocator.allocate(300L << 20, stream);
                    long cachedAddress = cached.address();
                    cached.close();
                    DeviceBuffer reused = allocator.allocate(250L << 20, stream);
                    expect(reused.address() == cachedAddress, "same-stream reuse");
                    reused.close();
                    // 600 + 300 cached + 400 exceeds the fake's 1 GiB: the cache is emptied and the retry fits.
                    DeviceBuffer retried = allocator.allocate(400L << 20, stream);
                    expect(allocator.stats().reservedBytes() == 1000L << 20, "reserved after retry "
                            + allocator.stats());
                    expectThrows(CudaOutOfMemoryException.class, () -> allocator.allocate(100L << 20, stream));
                    retried.close();
                    big.close();
                }
                expect(device.memoryInfo().free() == 1L << 30, "everything freed: " + device.memoryInfo());
            }
            System.out.println("PLUMBING OK");
        }
    }

}
