package nvlm.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import nvlm.kernels.DType;
import nvlm.kernels.Parallel;
import nvlm.kernels.cpu.Gemm;
import nvlm.tensor.io.Json;
import nvlm.trainer.cli.OptionTypes;
import nvlm.trainer.cli.ProgressOption;
import nvlm.trainer.train.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code ./nvlm bench gemm}: {@link Gemm} against numpy/OpenBLAS with the same thread count,
 * timings interleaved (Java sample, numpy sample, ...) so machine load hits both alike; one JSON
 * line per (op, shape) with median-based GFLOP/s = 2mnk / median seconds.
 */
@Command(name = "gemm", header = "Gemm (Vector API) vs numpy/OpenBLAS GFLOP/s on square and transformer shapes",
        description = """
                Times nvlm.kernels.cpu.Gemm against numpy (OpenBLAS) run by bench/python/gemm_peer.py with
                OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = the Java thread count (NVLM_THREADS, default: cores).
                Samples alternate Java / numpy; GFLOP/s are 2*m*n*k over the median per-call time.
                Prints one JSON line per op and shape on stdout:
                  {"op":"sgemm","m":..,"n":..,"k":..,"java_gflops":..,"numpy_gflops":..,"ratio":..}
                numpy_gflops and ratio are null when python3/numpy is missing (the reason goes to stderr).""")
final class GemmBench implements Callable<Integer> {
    /**
     * Square sizes, the projections of a 512-wide decoder over 4096 tokens (m x n x k), and 64
     * small products per call like attention's per-head ones (batch x m x n x k).
     */
    static final String DEFAULT_SHAPES = "256,512,1024,2048,4096x1536x512,4096x512x1536,4096x512x512,64x128x64x128";

    /** One call to time: {@code batch} products C[m,n] = op(A) op(B). */
    record Shape(int batch, int m, int n, int k) {
        static Shape parse(String word) {
            String[] parts = word.trim().toLowerCase().split("x", -1);
            try {
                int[] sizes = new int[parts.length];
                for (int i = 0; i < parts.length; i++) {
                    sizes[i] = Integer.parseInt(parts[i]);
                    if (sizes[i] < 1) {
                        throw new TypeConversionException("'" + word + "' has a size below 1");
                    }
                }
                switch (sizes.length) {
                    case 1: return new Shape(1, sizes[0], sizes[0], sizes[0]);
                    case 3: return new Shape(1, sizes[0], sizes[1], sizes[2]);
                    case 4: return new Shape(sizes[0], sizes[1], sizes[2], sizes[3]);
                    default: break;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new TypeConversionException("'" + word + "' is none of N, MxNxK, BATCHxMxNxK");
        }

        double flops() {
            return 2.0 * batch * m * n * k;
        }
    }

    @Option(names = "--shapes", paramLabel = "SHAPE", split = ",", converter = ShapeType.class, defaultValue = DEFAULT_SHAPES,
            description = "comma-separated sizes: N (N x N x N), MxNxK (C[m,n] = A[m,k] B[k,n]) or BATCHxMxNxK (that many"
                    + " independent products per call) (default ${DEFAULT-VALUE})")
    List<Shape> shapes;
    @Option(names = "--ops", paramLabel = "OP", split = ",", defaultValue = "sgemm,gemm_bf16", description = "sgemm (f32 A and"
            + " B) and/or gemm_bf16 (bf16 A and B, f32 C, compared with numpy's f32 sgemm because numpy has no bf16 matmul)"
            + " (default ${DEFAULT-VALUE})")
    List<Op> ops;
    @Option(names = "--layout", paramLabel = "L", defaultValue = "nn", description = "nn: A[m,k] B[k,n]; nt: B stored [n,k] (a"
            + " linear layer's weight); tn: A stored [k,m] (default ${DEFAULT-VALUE})")
    Layout layout;
    @Option(names = "--repeats", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "timed samples per side and shape (default ${DEFAULT-VALUE})")
    int repeats = 7;
    @Option(names = "--min-seconds", paramLabel = "S", description = "each sample repeats the product for at least S seconds"
            + " (default ${DEFAULT-VALUE})")
    double minSeconds = 0.05;
    @Option(names = "--python", paramLabel = "EXE", description = "interpreter for the numpy peer (default ${DEFAULT-VALUE})")
    String python = "python3";
    @Option(names = "--json-only", description = "no notes on stderr (and no progress)")
    boolean jsonOnly;
    @Mixin
    ProgressOption progress;

    /** The operand types timed (named in lower case on the command line and in the JSON). */
    enum Op { SGEMM, GEMM_BF16 }

    /** Where the operands are transposed (named as {@link Op}). */
    enum Layout { NN, NT, TN }

    /** {@code --shapes} words. */
    static final class ShapeType implements ITypeConverter<Shape> {
        @Override
        public Shape convert(String word) {
            return Shape.parse(word);
        }
    }

    @Override
    public Integer call() {
        boolean notes = !jsonOnly;
        try (NumpyPeer peer = NumpyPeer.start(python, Parallel.threads())) {
            if (!peer.available()) {
                System.err.println("bench gemm: numpy peer unavailable, numpy_gflops will be null: " + peer.reason());
            } else if (notes) {
                System.err.println("bench gemm: java " + Parallel.threads() + " threads, "
                        + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED + "; peer " + peer.description()
                        + "; load average " + loadAverage());
            }
            warmUp(layout);
            ProgressBar bar = ProgressBar.counting(System.err, notes ? progress.mode : ProgressBar.Mode.OFF, "bench gemm",
                    (long) ops.size() * shapes.size(), "cases");
            int done = 0;
            for (Op op : ops) {
                for (Shape shape : shapes) {
                    Map<String, Object> line = measure(op, shape, layout, repeats, minSeconds, peer);
                    bar.clear();
                    System.out.println(Json.write(line));
                    System.out.flush();
                    bar.advanceTo(++done);
                }
            }
            bar.finish();
            if (notes) {
                System.err.println("bench gemm: load average at the end " + loadAverage());
            }
        }
        return 0;
    }

    private static Map<String, Object> measure(Op op, Shape shape, Layout layout, int repeats,
                                               double minSeconds, NumpyPeer peer) {
        DType type = op == Op.SGEMM ? DType.F32 : DType.BF16;
        double[] javaSeconds = new double[repeats];
        List<Double> numpySeconds = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            Product product = new Product(arena, type, shape, layout);
            product.run();
            product.run();
            long start = System.nanoTime();
            product.run();
            double once = (System.nanoTime() - start) * 1e-9;
            int perSample = (int) Math.max(1, Math.min(1_000_000, minSeconds / Math.max(once, 1e-9)));
            for (int r = 0; r < repeats; r++) {
                start = System.nanoTime();
                for (int i = 0; i < perSample; i++) {
                    product.run();
                }
                javaSeconds[r] = (System.nanoTime() - start) * 1e-9 / perSample;
                double[] numpy = peer.time(shape.batch(), shape.m(), shape.n(), shape.k(), layout.name().toLowerCase(Locale.ROOT), 1, minSeconds);
                if (numpy != null) {
                    for (double s : numpy) {
                        numpySeconds.add(s);
                    }
                }
            }
        }
        double javaGflops = shape.flops() / Samples.median(javaSeconds) / 1e9;
        Double numpyGflops = null;
        if (peer.available() && !numpySeconds.isEmpty()) {
            numpyGflops = shape.flops() / Samples.median(numpySeconds.stream().mapToDouble(Double::doubleValue).toArray()) / 1e9;
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("op", op.name().toLowerCase(Locale.ROOT));
        if (shape.batch() > 1) {
            line.put("batch", (long) shape.batch());
        }
        line.put("m", (long) shape.m());
        line.put("n", (long) shape.n());
        line.put("k", (long) shape.k());
        if (layout != Layout.NN) {
            line.put("layout", layout.name().toLowerCase(Locale.ROOT));
        }
        line.put("java_gflops", significant(javaGflops));
        line.put("numpy_gflops", numpyGflops == null ? null : significant(numpyGflops));
        line.put("ratio", numpyGflops == null ? null : round(javaGflops / numpyGflops, 3));
        return line;
    }

    /** Operands in native memory and the call that multiplies them. */
    private static final class Product {
        private final DType type;
        private final Shape shape;
        private final boolean transA;
        private final boolean transB;
        private final MemorySegment a;
        private final MemorySegment b;
        private final MemorySegment c;

        Product(Arena arena, DType type, Shape shape, Layout layout) {
            this.type = type;
            this.shape = shape;
            this.transA = layout == Layout.TN;
            this.transB = layout == Layout.NT;
            SplittableRandom random = new SplittableRandom(1);
            this.a = random(arena, type, (long) shape.batch() * shape.m() * shape.k(), random);
            this.b = random(arena, type, (long) shape.batch() * shape.k() * shape.n(), random);
            this.c = arena.allocate(ValueLayout.JAVA_FLOAT, (long) shape.batch() * shape.m() * shape.n());
        }

        void run() {
            int m = shape.m(), n = shape.n(), k = shape.k();
            Gemm.gemm(type, type, transA, transB, shape.batch(), m, n, k, 1f,
                    a, 0, transA ? m : k, (long) m * k, b, 0, transB ? k : n, (long) k * n,
                    0f, c, 0, n, (long) m * n);
        }

        private static MemorySegment random(Arena arena, DType type, long count, SplittableRandom random) {
            MemorySegment segment = arena.allocate(count * type.byteSize(), 64);
            for (long i = 0; i < count; i++) {
                float value = (float) (random.nextDouble() * 2 - 1);
                if (type == DType.F32) {
                    segment.setAtIndex(ValueLayout.JAVA_FLOAT, i, value);
                } else {
                    segment.setAtIndex(ValueLayout.JAVA_SHORT, i, DType.floatToBf16(value));
                }
            }
            return segment;
        }
    }

    /**
     * Brings the kernels to their compiled (C2) form on small products first: an interpreted
     * micro-kernel is orders of magnitude slower and would turn the first large shape's warm-up
     * call into minutes.
     */
    private static void warmUp(Layout layout) {
        try (Arena arena = Arena.ofShared()) {
            Product f32 = new Product(arena, DType.F32, new Shape(1, 96, 96, 96), layout);
            Product bf16 = new Product(arena, DType.BF16, new Shape(1, 96, 96, 96), layout);
            // Until a round of calls is no faster than the best so far, three times in a row (the
            // JIT compiles in the background, slowly on a loaded machine), and at least a second.
            long deadline = System.nanoTime() + 1_000_000_000L;
            double best = Double.MAX_VALUE;
            int stable = 0;
            while (stable < 3 || System.nanoTime() < deadline) {
                long start = System.nanoTime();
                for (int i = 0; i < 50; i++) {
                    f32.run();
                    bf16.run();
                }
                double seconds = (System.nanoTime() - start) * 1e-9;
                stable = seconds < 0.95 * best ? 0 : stable + 1;
                best = Math.min(best, seconds);
            }
        }
    }

    /** Four significant digits: 175.3, 0.04211 (tiny shapes must not print as 0.0). */
    private static double significant(double value) {
        if (value == 0 || !Double.isFinite(value)) {
            return value;
        }
        int decimals = Math.max(0, 3 - (int) Math.floor(Math.log10(Math.abs(value))));
        return round(value, decimals);
    }

    private static double round(double value, int decimals) {
        double scale = Math.pow(10, decimals);
        return Math.round(value * scale) / scale;
    }

    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (Exception e) {
            return "unknown";
        }
    }
}
