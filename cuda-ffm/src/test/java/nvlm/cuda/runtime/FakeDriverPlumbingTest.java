package nvlm.cuda.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The FFM plumbing of the runtime (downcalls, out-parameters, C strings, kernelParams, error
 * texts, the caching allocator over the driver) run against src/test/c/fake_cuda_driver.c, a
 * host-memory stand-in for libcuda compiled here against the real cuda.h. It runs in a child JVM
 * pointed at the fake with -Dnvlm.cuda.libpath, so this JVM's library state stays untouched.
 * This is not a GPU test: the real driver is exercised by the backend's GPU tests and the device
 * check (bench/gpu).
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
            try (CudaDevice device = CudaDevice.open(0); CudaStream stream = CudaStream.create();
                 Arena arena = Arena.ofConfined()) {
                expect(device.name().equals("Fake CUDA Device"), "name " + device.name());
                expect(device.arch().equals("sm_90"), "arch " + device.arch());
                expect(device.totalMemory() == 1L << 30, "total memory");

                int n = 1000;
                float[] a = new float[n];
                float[] b = new float[n];
                for (int i = 0; i < n; i++) {
                    a[i] = i * 0.5f;
                    b[i] = 1000 - i;
                }
                try (DeviceBuffer da = DeviceBuffer.allocate(4L * n); DeviceBuffer db = DeviceBuffer.allocate(4L * n);
                     DeviceBuffer dc = DeviceBuffer.allocate(4L * n)) {
                    expect(device.memoryInfo().free() == (1L << 30) - 12L * n, "free memory after 3 buffers");
                    stream.copyFromHost(MemorySegment.ofArray(a), da.address());
                    MemorySegment nativeB = arena.allocate(4L * n, 16).copyFrom(MemorySegment.ofArray(b));
                    stream.copyFromHost(nativeB, db.address());
                    float[] back = new float[n];
                    stream.copyToHost(da.address(), MemorySegment.ofArray(back));
                    expect(Arrays.equals(a, back), "host -> device -> host");

                    try (CudaModule module = CudaModule.load("fake image".getBytes(StandardCharsets.US_ASCII), "fake")) {
                        CudaFunction add = module.function("vector_add");
                        // vector_add(a, b, c, long long n): kernelParams points at one 8-byte slot per argument.
                        MemorySegment slots = arena.allocate(8 * 4, 8);
                        MemorySegment params = arena.allocate(ADDRESS, 4);
                        long[] values = {da.address(), db.address(), dc.address(), n};
                        for (int i = 0; i < 4; i++) {
                            slots.setAtIndex(JAVA_LONG, i, values[i]);
                            params.setAtIndex(ADDRESS, i, slots.asSlice(8L * i, 8));
                        }
                        add.launch(4, 1, 1, 256, 1, 1, stream, params);
                        MemorySegment result = arena.allocate(4L * n, 16);
                        stream.copyToHost(dc.address(), result);
                        for (int i = 0; i < n; i++) {
                            expect(result.getAtIndex(JAVA_FLOAT, i) == a[i] + b[i], "c[" + i + "]");
                        }
                        var missing = expectThrows(CudaDriverException.class, () -> module.function("missing"));
                        expect(missing.getMessage().contains("cuModuleGetFunction(missing in fake)")
                                && missing.getMessage().contains("CUDA_ERROR_NOT_FOUND (500): named symbol not found (fake)"),
                                missing.getMessage());
                    }
                    var jit = expectThrows(CudaDriverException.class,
                            () -> CudaModule.load("bad ptx".getBytes(StandardCharsets.US_ASCII), "bad.ptx"));
                    expect(jit.getMessage().contains("ptxas fatal: fake JIT error"), jit.getMessage());

                    stream.memset32(dc.address(), Float.floatToIntBits(2.5f), n);
                    stream.memset8(dc.address() + 4, (byte) 0, 4);
                    stream.copyOnDevice(db.address(), dc.address(), 12);
                    stream.copyToHost(db.address(), MemorySegment.ofArray(back));
                    expect(back[0] == 2.5f && back[1] == 0f && back[2] == 2.5f && back[3] == b[3],
                            "memsetD32, memsetD8 on a word, a device copy of 3 words: " + Arrays.toString(back));
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
                }

                try (CachingAllocator allocator = CachingAllocator.onStream(stream)) {
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
