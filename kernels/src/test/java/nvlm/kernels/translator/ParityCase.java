package nvlm.kernels.translator;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A launch with snapshot inputs and the buffers the Java method left on the CPU: what another
 * executor of the translated kernel (host C here, a GPU elsewhere) must reproduce within
 * {@code atol + rtol * |expected|} (integers exactly). {@code nvrtcOptions} are for the GPU
 * compile, e.g. {@code --fmad=false} where results must match Java's rounding bit for bit.
 */
public record ParityCase(String label, KernelLaunch input, List<Object> cpuResult, double atol, double rtol,
                         List<String> nvrtcOptions) {

    /** Snapshots the launch's inputs, runs it on the CPU, and records the result. */
    public static ParityCase run(String label, KernelLaunch launch, double atol, double rtol, List<String> nvrtcOptions) {
        KernelLaunch input = new KernelLaunch(launch.kernel(), launch.config(), copies(launch.arguments()));
        launch.runOnCpu();
        return new ParityCase(label, input, copies(launch.arguments()), atol, rtol, nvrtcOptions);
    }

    public static List<Object> copies(List<Object> arguments) {
        List<Object> copies = new ArrayList<>();
        for (Object argument : arguments) {
            copies.add(argument instanceof Buffer buffer ? copy(buffer) : argument);
        }
        return copies;
    }

    public static Buffer copy(Buffer buffer) {
        MemorySegment memory = Arena.ofAuto().allocate(Math.max(1, buffer.segment().byteSize()), 8)
                .asSlice(0, buffer.segment().byteSize());
        MemorySegment.copy(buffer.segment(), 0, memory, 0, buffer.segment().byteSize());
        return switch (buffer) {
            case F32Buffer b -> F32Buffer.of(memory);
            case BF16Buffer b -> BF16Buffer.of(memory);
            case F16Buffer b -> F16Buffer.of(memory);
            case I32Buffer b -> I32Buffer.of(memory);
            case I64Buffer b -> I64Buffer.of(memory);
            case I8Buffer b -> I8Buffer.of(memory);
        };
    }

    /** Null when every element of actual is within tolerance of expected (NaN matching NaN), else the first miss. */
    public static String compare(Buffer expected, Buffer actual, double atol, double rtol) {
        if (expected.length() != actual.length()) {
            return "length " + actual.length() + ", expected " + expected.length();
        }
        for (long i = 0; i < expected.length(); i++) {
            double e;
            double a;
            switch (expected) {
                case F32Buffer b -> {
                    e = b.get(i);
                    a = ((F32Buffer) actual).get(i);
                }
                case BF16Buffer b -> {
                    e = b.get(i);
                    a = ((BF16Buffer) actual).get(i);
                }
                case F16Buffer b -> {
                    e = b.get(i);
                    a = ((F16Buffer) actual).get(i);
                }
                case I32Buffer b -> {
                    e = b.get(i);
                    a = ((I32Buffer) actual).get(i);
                    atol = 0;
                    rtol = 0;
                }
                case I64Buffer b -> {
                    if (b.get(i) != ((I64Buffer) actual).get(i)) {
                        return "element " + i + " is " + ((I64Buffer) actual).get(i) + ", expected " + b.get(i);
                    }
                    continue;
                }
                case I8Buffer b -> {
                    e = b.get(i);
                    a = ((I8Buffer) actual).get(i);
                    atol = 0;
                    rtol = 0;
                }
            }
            boolean ok;
            if (Double.isNaN(e)) {
                ok = Double.isNaN(a);
            } else if (atol == 0 && rtol == 0) {
                ok = Double.compare(e, a) == 0;  // bit for bit, -0.0 included
            } else if (Double.isInfinite(e)) {
                ok = e == a;
            } else {
                ok = Math.abs(a - e) <= atol + rtol * Math.abs(e);
            }
            if (!ok) {
                return "element " + i + " is " + a + ", expected " + e;
            }
        }
        return null;
    }

    /**
     * Writes cases for a GPU: each kernel's CUDA C, each launch's grid, scalars, input buffers and
     * the CPU's output buffers, a manifest, and {@code gpu_parity.py}, which runs them with CuPy
     * (NVRTC) and compares.
     */
    public static void writeForGpu(Path dir, List<ParityCase> cases) throws IOException {
        Files.createDirectories(dir);
        Set<String> sources = new LinkedHashSet<>();
        StringBuilder manifest = new StringBuilder("{\"cases\": [\n");
        for (int i = 0; i < cases.size(); i++) {
            ParityCase c = cases.get(i);
            CudaKernel cuda = c.input().kernel().cuda();
            if (sources.add(cuda.entryName())) {
                Files.writeString(dir.resolve(cuda.entryName() + ".cu"), cuda.source(), StandardCharsets.UTF_8);
            }
            LaunchConfig g = c.input().config();
            manifest.append(i == 0 ? "" : ",\n").append("{\"label\": \"").append(c.label()).append("\", \"entry\": \"")
                    .append(cuda.entryName()).append("\", \"atol\": ").append(c.atol()).append(", \"rtol\": ").append(c.rtol())
                    .append(", \"options\": [").append(String.join(", ", c.nvrtcOptions().stream().map(o -> "\"" + o + "\"").toList()))
                    .append("], \"grid\": [").append(g.gridX()).append(", ").append(g.gridY()).append(", ").append(g.gridZ())
                    .append("], \"block\": [").append(g.blockX()).append(", ").append(g.blockY()).append(", ")
                    .append(g.blockZ()).append("], \"args\": [");
            List<Object> args = c.input().arguments();
            for (int a = 0; a < args.size(); a++) {
                manifest.append(a == 0 ? "" : ", ");
                Object arg = args.get(a);
                if (arg instanceof Buffer buffer) {
                    String name = "c" + i + "_a" + a;
                    Files.write(dir.resolve(name + ".in"), buffer.segment().toArray(ValueLayout.JAVA_BYTE));
                    Files.write(dir.resolve(name + ".out"), ((Buffer) c.cpuResult().get(a)).segment().toArray(ValueLayout.JAVA_BYTE));
                    manifest.append("{\"kind\": \"buffer\", \"dtype\": \"").append(dtype(buffer)).append("\", \"file\": \"")
                            .append(name).append("\"}");
                } else {
                    manifest.append(switch (arg) {
                        case Integer v -> "{\"kind\": \"int\", \"value\": " + v + "}";
                        case Long v -> "{\"kind\": \"long\", \"value\": " + v + "}";
                        case Float v -> "{\"kind\": \"float\", \"bits\": " + Float.floatToRawIntBits(v) + "}";
                        case Double v -> "{\"kind\": \"double\", \"bits\": " + Double.doubleToRawLongBits(v) + "}";
                        default -> throw new IllegalArgumentException("scalar " + arg);
                    });
                }
            }
            manifest.append("]}");
        }
        manifest.append("\n]}\n");
        Files.writeString(dir.resolve("manifest.json"), manifest.toString(), StandardCharsets.UTF_8);
        try (InputStream script = ParityCase.class.getResourceAsStream("gpu_parity.py")) {
            Files.write(dir.resolve("gpu_parity.py"), script.readAllBytes());
        }
    }

    private static String dtype(Buffer buffer) {
        return switch (buffer) {
            case F32Buffer b -> "f32";
            case BF16Buffer b -> "bf16";
            case F16Buffer b -> "f16";
            case I32Buffer b -> "i32";
            case I64Buffer b -> "i64";
            case I8Buffer b -> "i8";
        };
    }
}
