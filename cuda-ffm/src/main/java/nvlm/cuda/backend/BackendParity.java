package nvlm.cuda.backend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.Supplier;
import nvlm.kernels.DType;
import nvlm.tensor.Backend;
import nvlm.tensor.BinaryOp;
import nvlm.tensor.CompareOp;
import nvlm.tensor.Device;
import nvlm.tensor.F;
import nvlm.tensor.GradMode;
import nvlm.tensor.ReduceOp;
import nvlm.tensor.Tensor;
import nvlm.tensor.UnaryOp;

/**
 * Every {@link Backend} method on the CUDA backend against the CPU backend, on fresh random
 * inputs: random shapes (1, primes, odd sizes), strided, transposed and broadcast views, every
 * dtype pair of the copies. CUDA outputs are poisoned (all bits set: NaN, -1) before each call,
 * so an element the device did not write shows; accumulated outputs start from the same random
 * values on both sides. Errors are relative Frobenius norms; NaN never passes, infinities must
 * match exactly.
 *
 * <p>The same checks run in the tests on the {@link SimulatedAccelerator} ({@link Scale#SMALL})
 * and on a GPU by the device check ({@link Scale#LARGE}).
 */
public final class BackendParity {

    /** One check's outcome: {@code error} against {@code tolerance} (NaN fails). */
    public record Result(String name, double error, double tolerance, String detail) {
        public boolean passed() {
            return error <= tolerance;
        }

        public String line() {
            return String.format(Locale.ROOT, "%-34s %s  error=%-10s tol=%-8s %s", name, passed() ? "PASS" : "FAIL",
                    String.format(Locale.ROOT, "%.3e", error), String.format(Locale.ROOT, "%.0e", tolerance), detail);
        }
    }

    /** How large the random shapes get: the simulated device runs kernels on the CPU executor, so smaller. */
    public enum Scale {
        SMALL(12, 40), LARGE(160, 700);

        final int maxDim;
        final int maxTokens;

        Scale(int maxDim, int maxTokens) {
            this.maxDim = maxDim;
            this.maxTokens = maxTokens;
        }
    }

    /** f32 against f32 on another device: transcendental functions and summation orders differ by ulps. */
    static final double F32 = 1e-5;
    /** bf16-rounded operands (8-bit mantissas) against exact f32 products (1e-3 to 1e-2). */
    static final double BF16 = 1e-2;
    /** tf32 rounds inputs to 10-bit mantissas: about 4e-4 rounding to nearest, twice that truncating. */
    static final double TF32 = 2e-3;

    private final SplittableRandom rng;
    private final Scale scale;
    private final Backend cpu = Backend.of(Device.CPU);
    private final CudaBackend cuda = CudaBackend.instance();

    public BackendParity(long seed, Scale scale) {
        this.rng = new SplittableRandom(seed);
        this.scale = scale;
    }

    /** Every check by name, in order. */
    public Map<String, Supplier<Result>> checks() {
        Map<String, Supplier<Result>> c = new LinkedHashMap<>();
        c.put("host-copies", this::hostCopies);
        c.put("copy-strided-f32", () -> copy(DType.F32, DType.F32));
        c.put("copy-strided-bf16", () -> copy(DType.BF16, DType.BF16));
        c.put("copy-f32-to-bf16", () -> copy(DType.F32, DType.BF16));
        c.put("copy-bf16-to-f32", () -> copy(DType.BF16, DType.F32));
        c.put("copy-f32-to-f16", () -> copy(DType.F32, DType.F16));
        c.put("copy-f16-to-f32", () -> copy(DType.F16, DType.F32));
        c.put("copy-i64-to-f32", () -> copy(DType.I64, DType.F32));
        c.put("copy-f32-to-i64", () -> copy(DType.F32, DType.I64));
        c.put("copy-i64-to-i32", () -> copy(DType.I64, DType.I32));
        c.put("copy-bool-to-f32", () -> copy(DType.BOOL, DType.F32));
        c.put("copy-f32-to-bool", () -> copy(DType.F32, DType.BOOL));
        c.put("copy-into-strided-view", this::copyIntoView);
        c.put("copy-rank-7", this::copyRank7);
        c.put("fill-every-dtype", this::fill);
        for (UnaryOp op : UnaryOp.values()) {
            c.put("unary-" + op.name().toLowerCase(Locale.ROOT), () -> unary(op));
        }
        for (BinaryOp op : BinaryOp.values()) {
            c.put("binary-" + op.name().toLowerCase(Locale.ROOT), () -> binary(op));
        }
        c.put("binary-rank-7", this::binaryRank7);
        for (CompareOp op : CompareOp.values()) {
            c.put("compare-" + op.name().toLowerCase(Locale.ROOT), () -> compare(op));
        }
        c.put("where", this::where);
        c.put("affine-axpy", this::affineAxpy);
        for (ReduceOp op : ReduceOp.values()) {
            c.put("reduce-" + op.name().toLowerCase(Locale.ROOT), () -> reduce(op));
        }
        c.put("argmax", this::argmax);
        c.put("sum-of-squares", this::sumOfSquares);
        for (MatmulPrecision p : MatmulPrecision.values()) {
            c.put("matmul-" + p.name().toLowerCase(Locale.ROOT), () -> matmul(p, DType.F32));
        }
        c.put("matmul-bf16-operands", () -> matmul(MatmulPrecision.BF16, DType.BF16));
        c.put("matmul-mixed-operands", () -> matmul(MatmulPrecision.F32, null));
        c.put("softmax", () -> softmax(false));
        c.put("log-softmax", () -> softmax(true));
        c.put("layer-norm", () -> layerNorm(true));
        c.put("layer-norm-no-bias", () -> layerNorm(false));
        c.put("rms-norm", this::rmsNorm);
        c.put("rope", this::rope);
        c.put("embedding", this::embedding);
        c.put("index-copy-rows", this::indexCopyRows);
        c.put("attention-causal-gqa", () -> attention(Mode.CAUSAL));
        c.put("attention-causal-kv-longer", () -> attention(Mode.CAUSAL_LONGER_KV));
        c.put("attention-mask-empty-rows", () -> attention(Mode.MASK));
        c.put("attention-none-strided", () -> attention(Mode.NONE));
        c.put("cross-entropy", this::crossEntropy);
        c.put("adamw", this::adamw);
        // Appended, so the checks above draw the same random inputs as before.
        c.put("copy-contiguous-casts", this::contiguousCasts);
        c.put("embedding-large-table", this::embeddingLargeTable);
        return c;
    }

    /** Runs one check; an exception is a failure carrying its message. */
    public Result run(String name, Supplier<Result> check) {
        try (var noGrad = GradMode.disabled()) {
            return check.get();
        } catch (RuntimeException | Error e) {
            String message = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            return new Result(name, Double.NaN, 0, e.getClass().getSimpleName() + ": " + message);
        }
    }

    public List<Result> runAll() {
        List<Result> results = new ArrayList<>();
        checks().forEach((name, check) -> results.add(run(name, check)));
        return results;
    }

    // ------------------------------------------------------------------ random inputs

    private static final long[] SIZES = {1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 32, 33, 64, 97, 127, 128, 129, 255};

    /** A size in [1, max]: half the time one of the awkward sizes, else uniform. */
    private long dim(int max) {
        if (rng.nextBoolean()) {
            long s;
            do {
                s = SIZES[rng.nextInt(SIZES.length)];
            } while (s > max);
            return s;
        }
        return 1 + rng.nextInt(max);
    }

    private long dim() {
        return dim(scale.maxDim);
    }

    private long[] shape(int rank) {
        // Keep the element count moderate whatever the rank.
        int max = Math.max(2, (int) Math.round(Math.pow(scale.maxDim * scale.maxDim * 4.0, 1.0 / Math.max(rank, 1))));
        long[] s = new long[rank];
        for (int i = 0; i < rank; i++) {
            s[i] = dim(Math.min(max, scale.maxDim));
        }
        return s;
    }

    private Tensor uniform(double lo, double hi, long... shape) {
        float[] v = new float[Math.toIntExact(numel(shape))];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        }
        return Tensor.of(v, shape);
    }

    private Tensor normal(long... shape) {
        float[] v = new float[Math.toIntExact(numel(shape))];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return Tensor.of(v, shape);
    }

    /** Small integers as floats: comparisons with ties, exact sums. */
    private Tensor integers(int bound, long... shape) {
        float[] v = new float[Math.toIntExact(numel(shape))];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextInt(bound);
        }
        return Tensor.of(v, shape);
    }

    private Tensor ids(long bound, long count) {
        long[] v = new long[Math.toIntExact(count)];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextLong(bound);
        }
        return Tensor.of(v, count);
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static Tensor gpu(Tensor cpuTensor) {
        return cpuTensor.to(Device.CUDA);
    }

    /** A CUDA tensor of {@code shape} with every bit set (NaN floats, -1 integers), so unwritten elements show. */
    private Tensor poisoned(DType dtype, long... shape) {
        Tensor t = Tensor.empty(Device.CUDA, dtype, shape);
        byte[] ones = new byte[Math.toIntExact(t.numel() * dtype.byteSize())];
        Arrays.fill(ones, (byte) 0xff);
        cuda.copyFromHost(java.lang.foreign.MemorySegment.ofArray(ones), t);
        return t;
    }

    private static Tensor cpuEmpty(DType dtype, long... shape) {
        return Tensor.empty(Device.CPU, dtype, shape);
    }

    // ------------------------------------------------------------------ comparison

    /**
     * ||got - want|| / ||want|| (the RMS of got - want when want is all zeros); NaN if either holds
     * a NaN, infinity if infinities differ.
     */
    static double relativeError(float[] got, float[] want) {
        if (got.length != want.length) {
            return Double.NaN;
        }
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < got.length; i++) {
            float g = got[i];
            float w = want[i];
            if (Float.isNaN(g) || Float.isNaN(w)) {
                return Double.NaN;
            }
            if (Float.isInfinite(g) || Float.isInfinite(w)) {
                if (g != w) {
                    return Double.POSITIVE_INFINITY;
                }
                continue;
            }
            diff += ((double) g - w) * ((double) g - w);
            norm += (double) w * w;
        }
        if (norm == 0) {
            // An all-zero reference (LayerNorm over one column: y = b and dx = 0 exactly) has no
            // relative error: the H200 run reported infinity for a 197x1 LayerNorm, where fused
            // multiply-adds can leave rounding residues. Take the RMS absolute error instead; NaN
            // and unwritten (poisoned) outputs still fail.
            return got.length == 0 ? 0 : Math.sqrt(diff / got.length);
        }
        return Math.sqrt(diff / norm);
    }

    private static double error(Tensor got, Tensor want) {
        return relativeError(got.toFloatArray(), want.toFloatArray());
    }

    /** 0 when every element is equal (bit patterns of integers and BOOLs, values of floats), else 1. */
    private static double exact(Tensor got, Tensor want) {
        if (got.dtype() == DType.BOOL || want.dtype() == DType.BOOL) {
            return Arrays.equals(got.toBytes(), want.toBytes()) ? 0 : 1;
        }
        if (!got.dtype().isFloatingPoint()) {
            return Arrays.equals(got.toLongArray(), want.toLongArray()) ? 0 : 1;
        }
        float[] g = got.toFloatArray();
        float[] w = want.toFloatArray();
        for (int i = 0; i < g.length; i++) {
            if (Float.floatToIntBits(g[i]) != Float.floatToIntBits(w[i])) {
                return 1;
            }
        }
        return g.length == w.length ? 0 : 1;
    }

    private static Result result(String name, double error, double tolerance, Object... detail) {
        StringBuilder s = new StringBuilder();
        for (Object d : detail) {
            s.append(s.isEmpty() ? "" : " ").append(d instanceof long[] l ? Arrays.toString(l) : String.valueOf(d));
        }
        return new Result(name, error, tolerance, s.toString());
    }

    // ------------------------------------------------------------------ memory and copies

    private Result hostCopies() {
        long n = dim() * dim() + 3;
        Tensor host = normal(n);
        Tensor device = gpu(host);
        Tensor offsetView = device.narrow(0, 1, n - 2);
        double e = Math.max(exact(device, host), exact(offsetView, host.narrow(0, 1, n - 2)));
        long[] ints = new long[Math.toIntExact(n)];
        for (int i = 0; i < ints.length; i++) {
            ints[i] = rng.nextLong();
        }
        Tensor longs = Tensor.of(ints, n);
        e = Math.max(e, exact(gpu(longs), longs));
        return result("host-copies", e, 0, n, "elements f32 and i64, at offset 0 and 1");
    }

    private Tensor values(DType dtype, long... shape) {
        return switch (dtype) {
            case F32, BF16, F16 -> normal(shape).to(dtype);
            case I64, I32 -> integers(1000, shape).to(DType.I64).to(dtype);
            case BOOL -> integers(2, shape).ne(0);
        };
    }

    private Result copy(DType from, DType to) {
        String name = "copy-" + from + "-" + to;
        int rank = 1 + rng.nextInt(5);
        long[] shape = shape(rank);
        Tensor src = values(from, shape);
        // A random view: permuted, then a slice of the last dimension when it is long enough.
        int[] perm = permutation(rank);
        Function<Tensor, Tensor> view = t -> {
            Tensor v = t.permute(perm);
            long last = v.shape()[rank - 1];
            return last > 2 ? v.narrow(rank - 1, 1, last - 2) : v;
        };
        Tensor cpuView = view.apply(src);
        Tensor gpuView = view.apply(gpu(src));
        Tensor want = cpuEmpty(to, cpuView.shape());
        cpu.copy(cpuView, want);
        Tensor got = poisoned(to, cpuView.shape());
        cuda.copy(gpuView, got);
        return result(name, exact(got, want), 0, from, "->", to, cpuView.shape(), "strides", cpuView.strides());
    }

    private int[] permutation(int rank) {
        int[] p = new int[rank];
        for (int i = 0; i < rank; i++) {
            p[i] = i;
        }
        for (int i = rank - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private Result copyIntoView() {
        long rows = dim();
        long cols = dim();
        Tensor base = normal(cols, rows + 2);
        Tensor src = normal(rows, cols);
        Tensor cpuBase = base.contiguousCopy();
        cpu.copy(src, cpuBase.narrow(1, 1, rows).transpose(0, 1));
        Tensor gpuBase = gpu(base);
        cuda.copy(gpu(src), gpuBase.narrow(1, 1, rows).transpose(0, 1));
        return result("copy-into-strided-view", exact(gpuBase, cpuBase), 0, "[" + rows + ", " + cols
                + "] into a transposed slice");
    }

    private Result copyRank7() {
        long[] shape = {2, 3, 2, 3, 2, 3, 2};
        Tensor src = normal(shape);
        int[] perm = {6, 0, 5, 1, 4, 2, 3};
        Tensor want = cpuEmpty(DType.BF16, src.permute(perm).shape());
        cpu.copy(src.permute(perm), want);
        Tensor got = poisoned(DType.BF16, want.shape());
        cuda.copy(gpu(src).permute(perm), got);
        return result("copy-rank-7", exact(got, want), 0, "f32 -> bf16, a permutation that merges to rank 7");
    }

    private Result fill() {
        double worst = 0;
        StringBuilder detail = new StringBuilder();
        double[] fills = {0, 1.5, -3.25, 8589934593.0, Double.NEGATIVE_INFINITY};
        for (DType dtype : DType.values()) {
            for (double value : fills) {
                if (!dtype.isFloatingPoint() && Double.isInfinite(value)) {
                    continue;
                }
                long n = dim() * 3 + 1;
                Tensor want = cpuEmpty(dtype, n);
                cpu.fill(want, value);
                Tensor got = poisoned(dtype, n);
                cuda.fill(got, value);
                double e = exact(got, want);
                if (e != 0) {
                    detail.append(dtype).append('=').append(value).append(' ');
                }
                worst = Math.max(worst, e);
            }
        }
        return result("fill-every-dtype", worst, 0, detail.isEmpty() ? "all dtypes, values 0, 1.5, -3.25, 2^33+1, -inf"
                : "differs: " + detail);
    }

    // ------------------------------------------------------------------ elementwise

    private Tensor unaryInput(UnaryOp op, long... shape) {
        return switch (op) {
            case LOG, SQRT, RSQRT -> uniform(0.05, 4, shape);
            case RECIPROCAL -> uniform(0.2, 3, shape).mul(integers(2, shape).mul(2).sub(1));
            case EXP -> uniform(-6, 6, shape);
            case SIN, COS -> uniform(-8, 8, shape);
            default -> uniform(-5, 5, shape);
        };
    }

    private Result unary(UnaryOp op) {
        String name = "unary-" + op.name().toLowerCase(Locale.ROOT);
        long[] shape = shape(1 + rng.nextInt(3));
        Tensor x = unaryInput(op, shape);
        Tensor gy = normal(shape);
        Tensor y = cpuEmpty(DType.F32, shape);
        cpu.unary(op, x, y);
        Tensor gx = cpuEmpty(DType.F32, shape);
        cpu.unaryBackward(op, x, y, gy, gx);
        Tensor xg = gpu(x);
        Tensor yg = poisoned(DType.F32, shape);
        cuda.unary(op, xg, yg);
        Tensor gxg = poisoned(DType.F32, shape);
        cuda.unaryBackward(op, xg, yg, gpu(gy), gxg);
        return result(name, Math.max(error(yg, y), error(gxg, gx)), F32, shape, "forward and backward");
    }

    /** A broadcast pair: shapes of a and b whose broadcast is {@code out}, some dimensions 1 in one of them. */
    private long[][] broadcastShapes(int rank) {
        long[] out = shape(rank);
        long[] a = out.clone();
        long[] b = out.clone();
        for (int i = 0; i < rank; i++) {
            int r = rng.nextInt(4);
            if (r == 0) {
                a[i] = 1;
            } else if (r == 1) {
                b[i] = 1;
            }
        }
        // b sometimes has fewer dimensions (leading broadcast).
        int drop = rng.nextInt(rank);
        return new long[][] {out, a, Arrays.copyOfRange(b, drop, rank)};
    }

    private static long[] withLeading(long[] shape, int rank) {
        long[] s = new long[rank];
        Arrays.fill(s, 1);
        System.arraycopy(shape, 0, s, rank - shape.length, shape.length);
        return s;
    }

    private Result binary(BinaryOp op) {
        String name = "binary-" + op.name().toLowerCase(Locale.ROOT);
        int rank = 1 + rng.nextInt(5);
        long[][] s = broadcastShapes(rank);
        Tensor a = op == BinaryOp.POW ? uniform(0.1, 3, s[1]) : normal(s[1]);
        Tensor b = op == BinaryOp.POW ? uniform(-2, 2, s[2]) : op == BinaryOp.DIV ? uniform(0.5, 2, s[2]) : normal(s[2]);
        if (op == BinaryOp.MAX || op == BinaryOp.MIN) {
            a = integers(4, s[1]);
            b = integers(4, s[2]);
        }
        return binaryCase(name, op, a, b, s[0]);
    }

    private Result binaryCase(String name, BinaryOp op, Tensor a, Tensor b, long[] out) {
        int rank = out.length;
        Tensor ae = a.reshape(withLeading(a.shape(), rank)).expand(out);
        Tensor be = b.reshape(withLeading(b.shape(), rank)).expand(out);
        Tensor want = cpuEmpty(DType.F32, out);
        cpu.binary(op, ae, be, want);
        Tensor got = poisoned(DType.F32, out);
        cuda.binary(op, gpu(a).reshape(withLeading(a.shape(), rank)).expand(out),
                gpu(b).reshape(withLeading(b.shape(), rank)).expand(out), got);
        return result(name, error(got, want), F32, a.shape(), op, b.shape(), "->", out);
    }

    private Result binaryRank7() {
        long[] out = {2, 3, 2, 3, 2, 3, 2};
        long[] bs = {2, 1, 2, 1, 2, 1, 2};
        return binaryCase("binary-rank-7", BinaryOp.POW, uniform(0.1, 3, out), uniform(-2, 2, bs), out);
    }

    private Result compare(CompareOp op) {
        String name = "compare-" + op.name().toLowerCase(Locale.ROOT);
        int rank = 1 + rng.nextInt(4);
        long[][] s = broadcastShapes(rank);
        Tensor a = integers(3, s[1]);
        Tensor b = integers(3, s[2]);
        Tensor ae = a.reshape(withLeading(a.shape(), rank)).expand(s[0]);
        Tensor be = b.reshape(withLeading(b.shape(), rank)).expand(s[0]);
        Tensor want = cpuEmpty(DType.BOOL, s[0]);
        cpu.compare(op, ae, be, want);
        Tensor got = poisoned(DType.BOOL, s[0]);
        cuda.compare(op, gpu(a).reshape(withLeading(a.shape(), rank)).expand(s[0]),
                gpu(b).reshape(withLeading(b.shape(), rank)).expand(s[0]), got);
        return result(name, exact(got, want), 0, s[1], op, s[2], "(small integers: ties)");
    }

    private Result where() {
        int rank = 1 + rng.nextInt(4);
        long[][] s = broadcastShapes(rank);
        long[] condShape = s[0].clone();
        condShape[rng.nextInt(rank)] = 1;
        Tensor cond = integers(2, condShape).ne(0);
        Tensor a = normal(s[1]);
        Tensor b = normal(s[2]);
        Function<Tensor, Tensor> expand = t -> t.reshape(withLeading(t.shape(), rank)).expand(s[0]);
        Tensor want = cpuEmpty(DType.F32, s[0]);
        cpu.where(expand.apply(cond), expand.apply(a), expand.apply(b), want);
        Tensor got = poisoned(DType.F32, s[0]);
        cuda.where(expand.apply(gpu(cond)), expand.apply(gpu(a)), expand.apply(gpu(b)), got);
        return result("where", exact(got, want), 0, condShape, s[1], s[2], "->", s[0]);
    }

    private Result affineAxpy() {
        long[] shape = shape(2);
        Tensor x = normal(shape);
        Tensor y0 = normal(shape);
        float alpha = (float) rng.nextGaussian();
        float beta = (float) rng.nextGaussian();
        Tensor want = cpuEmpty(DType.F32, shape);
        cpu.affine(x, want, alpha, beta);
        Tensor got = poisoned(DType.F32, shape);
        cuda.affine(gpu(x), got, alpha, beta);
        Tensor wantY = y0.contiguousCopy();
        cpu.axpy(alpha, x, wantY);
        Tensor gotY = gpu(y0);
        cuda.axpy(alpha, gpu(x), gotY);
        return result("affine-axpy", Math.max(error(got, want), error(gotY, wantY)), F32, shape);
    }

    // ------------------------------------------------------------------ reductions

    private Result reduce(ReduceOp op) {
        String name = "reduce-" + op.name().toLowerCase(Locale.ROOT);
        int rank = 1 + rng.nextInt(4);
        long[] shape = shape(rank);
        if (rng.nextInt(3) == 0) {
            // A long axis over few columns: the chunked path (bias gradients).
            shape = new long[] {dim(scale.maxTokens) * 3 + 1, dim()};
            rank = 2;
        }
        int axis = rng.nextInt(rank);
        long[] kept = shape.clone();
        kept[axis] = 1;
        Tensor x = normal(shape);
        Tensor want = cpuEmpty(DType.F32, kept);
        cpu.reduce(op, x, axis, want);
        Tensor got = poisoned(DType.F32, kept);
        cuda.reduce(op, gpu(x), axis, got);
        return result(name, error(got, want), F32, shape, "axis", axis);
    }

    private Result argmax() {
        int rank = 1 + rng.nextInt(3);
        long[] shape = shape(rank);
        int axis = rng.nextInt(rank);
        long[] kept = shape.clone();
        kept[axis] = 1;
        Tensor x = integers(5, shape);
        Tensor want = cpuEmpty(DType.I64, kept);
        cpu.argmax(x, axis, want);
        Tensor got = poisoned(DType.I64, kept);
        cuda.argmax(gpu(x), axis, got);
        return result("argmax", exact(got, want), 0, shape, "axis", axis, "(ties: the first wins)");
    }

    private Result sumOfSquares() {
        long n = dim() * dim() * (1 + rng.nextInt(20)) + 1;
        Tensor x = normal(n);
        double want = cpu.sumOfSquares(x);
        double got = cuda.sumOfSquares(gpu(x));
        return result("sum-of-squares", Math.abs(got - want) / want, 1e-12, n, "elements, double accumulation");
    }

    // ------------------------------------------------------------------ matmul

    /** A [batch, rows, cols] operand view: padded rows, and stride 0 over the batch when broadcast. */
    private record MatrixView(Tensor base, long batch, long rows, long cols, boolean broadcast) {
        Tensor view(Tensor storage) {
            Tensor v = storage.narrow(2, 0, cols);
            return broadcast ? v.expand(batch, rows, cols) : v;
        }
    }

    private MatrixView matrix(long batch, long rows, long cols, boolean broadcast, DType dtype) {
        long pad = rng.nextInt(3);
        Tensor base = normal(broadcast ? 1 : batch, rows, cols + pad).to(dtype);
        return new MatrixView(base, batch, rows, cols, broadcast);
    }

    private Result matmul(MatmulPrecision precision, DType operands) {
        String name = "matmul-" + (operands == DType.BF16 ? "bf16-operands" : operands == null ? "mixed-operands"
                : precision.name().toLowerCase(Locale.ROOT));
        long batch = rng.nextBoolean() ? 1 : 2 + rng.nextInt(3);
        long m = dim();
        long n = dim();
        long k = dim();
        boolean transA = rng.nextBoolean();
        boolean transB = rng.nextBoolean();
        boolean broadcastA = batch > 1 && rng.nextInt(3) == 0;
        boolean broadcastB = batch > 1 && !broadcastA && rng.nextInt(3) == 0;
        DType aType = operands == null ? DType.BF16 : operands;
        DType bType = operands == null ? DType.F32 : operands;
        MatrixView a = matrix(batch, transA ? k : m, transA ? m : k, broadcastA, aType);
        MatrixView b = matrix(batch, transB ? n : k, transB ? k : n, broadcastB, bType);
        float alpha = (float) (0.5 + rng.nextDouble());
        float beta = rng.nextBoolean() ? 0f : (float) rng.nextGaussian();
        Tensor c0 = normal(batch, m, n);
        Tensor want = c0.contiguousCopy();
        cpu.matmul(a.view(a.base()), transA, b.view(b.base()), transB, want, alpha, beta);
        Tensor got = beta == 0 ? poisoned(DType.F32, batch, m, n) : gpu(c0);
        MatmulPrecision saved = cuda.matmulPrecision();
        cuda.setMatmulPrecision(precision);
        try {
            cuda.matmul(a.view(gpu(a.base())), transA, b.view(gpu(b.base())), transB, got, alpha, beta);
        } finally {
            cuda.setMatmulPrecision(saved);
        }
        // 16-bit operands multiply exactly in f32 on both sides: the f32 tolerance applies.
        double tolerance = operands == DType.BF16 || precision == MatmulPrecision.F32 ? F32
                : precision == MatmulPrecision.TF32 ? TF32 : BF16;
        if (operands == null) {
            tolerance = F32;
        }
        return result(name, error(got, want), tolerance, "batch", batch, (transA ? "T" : "N") + (transB ? "T" : "N"),
                "m n k", m, n, k, aType + "x" + bType, broadcastA ? "a broadcast" : "", broadcastB ? "b broadcast" : "",
                "beta", beta);
    }

    // ------------------------------------------------------------------ fused

    private Result softmax(boolean log) {
        long[] shape = {dim(), dim(scale.maxTokens)};
        Tensor x = normal(shape).mul(3);
        Tensor gy = normal(shape);
        Tensor y = cpuEmpty(DType.F32, shape);
        cpu.softmax(x, y, log);
        Tensor gx = cpuEmpty(DType.F32, shape);
        cpu.softmaxBackward(y, gy, gx, log);
        Tensor yg = poisoned(DType.F32, shape);
        cuda.softmax(gpu(x), yg, log);
        Tensor gxg = poisoned(DType.F32, shape);
        cuda.softmaxBackward(yg, gpu(gy), gxg, log);
        return result(log ? "log-softmax" : "softmax", Math.max(error(yg, y), error(gxg, gx)), F32, shape,
                "forward and backward");
    }

    private Result layerNorm(boolean bias) {
        long rows = dim(scale.maxTokens);
        long cols = dim(4 * scale.maxDim);
        Tensor x = normal(rows, cols).mul(2).add(0.5);
        Tensor w = uniform(0.5, 1.5, cols);
        Tensor b = bias ? normal(cols) : null;
        Tensor gy = normal(rows, cols);
        Tensor gw0 = normal(cols);
        Tensor gb0 = normal(cols);
        float eps = 1e-5f;
        Tensor y = cpuEmpty(DType.F32, rows, cols);
        Tensor mean = cpuEmpty(DType.F32, rows);
        Tensor rstd = cpuEmpty(DType.F32, rows);
        cpu.layerNorm(x, w, b, eps, y, mean, rstd);
        Tensor gx = cpuEmpty(DType.F32, rows, cols);
        Tensor gw = gw0.contiguousCopy();
        Tensor gb = bias ? gb0.contiguousCopy() : null;
        cpu.layerNormBackward(x, w, mean, rstd, gy, gx, gw, gb);

        Tensor xg = gpu(x);
        Tensor yg = poisoned(DType.F32, rows, cols);
        Tensor meang = poisoned(DType.F32, rows);
        Tensor rstdg = poisoned(DType.F32, rows);
        cuda.layerNorm(xg, gpu(w), bias ? gpu(b) : null, eps, yg, meang, rstdg);
        Tensor gxg = poisoned(DType.F32, rows, cols);
        Tensor gwg = gpu(gw0);
        Tensor gbg = bias ? gpu(gb0) : null;
        cuda.layerNormBackward(xg, gpu(w), meang, rstdg, gpu(gy), gxg, gwg, gbg);
        double e = Math.max(Math.max(error(yg, y), error(meang, mean)), Math.max(error(rstdg, rstd), error(gxg, gx)));
        e = Math.max(e, error(gwg, gw));
        if (bias) {
            e = Math.max(e, error(gbg, gb));
        }
        return result(bias ? "layer-norm" : "layer-norm-no-bias", e, F32, rows + "x" + cols,
                "y, mean, rstd, dx, accumulated dw" + (bias ? ", db" : ""));
    }

    private Result rmsNorm() {
        long rows = dim(scale.maxTokens);
        long cols = dim(4 * scale.maxDim);
        Tensor x = normal(rows, cols);
        Tensor w = uniform(0.5, 1.5, cols);
        Tensor gy = normal(rows, cols);
        Tensor gw0 = normal(cols);
        float eps = 1e-6f;
        Tensor y = cpuEmpty(DType.F32, rows, cols);
        Tensor rstd = cpuEmpty(DType.F32, rows);
        cpu.rmsNorm(x, w, eps, y, rstd);
        Tensor gx = cpuEmpty(DType.F32, rows, cols);
        Tensor gw = gw0.contiguousCopy();
        cpu.rmsNormBackward(x, w, rstd, gy, gx, gw);
        Tensor xg = gpu(x);
        Tensor yg = poisoned(DType.F32, rows, cols);
        Tensor rstdg = poisoned(DType.F32, rows);
        cuda.rmsNorm(xg, gpu(w), eps, yg, rstdg);
        Tensor gxg = poisoned(DType.F32, rows, cols);
        Tensor gwg = gpu(gw0);
        cuda.rmsNormBackward(xg, gpu(w), rstdg, gpu(gy), gxg, gwg);
        double e = Math.max(Math.max(error(yg, y), error(rstdg, rstd)), Math.max(error(gxg, gx), error(gwg, gw)));
        return result("rms-norm", e, F32, rows + "x" + cols, "y, rstd, dx, accumulated dw");
    }

    private Result rope() {
        long batch = 1 + rng.nextInt(3);
        long seq = dim(scale.maxTokens);
        long heads = 1 + rng.nextInt(5);
        long headDim = 2 * dim(32);
        int start = rng.nextInt(3000);
        double theta = rng.nextBoolean() ? 1e6 : 1e4;
        Tensor x = normal(batch, seq, heads, headDim);
        Tensor y = cpuEmpty(DType.F32, x.shape());
        cpu.rope(x, y, start, theta, false);
        Tensor back = cpuEmpty(DType.F32, x.shape());
        cpu.rope(y, back, start, theta, true);
        Tensor yg = poisoned(DType.F32, x.shape());
        cuda.rope(gpu(x), yg, start, theta, false);
        Tensor backg = poisoned(DType.F32, x.shape());
        cuda.rope(yg, backg, start, theta, true);
        return result("rope", Math.max(error(yg, y), error(backg, back)), F32, x.shape(), "startPos", start, "theta",
                theta, "forward and inverse");
    }

    /** Contiguous copies between f32 and the 16-bit floats: the cast kernels, not the strided copy. */
    private Result contiguousCasts() {
        long[] shape = shape(1 + rng.nextInt(3));
        double worst = 0;
        DType[][] pairs = {{DType.F32, DType.BF16}, {DType.BF16, DType.F32}, {DType.F32, DType.F16}, {DType.F16, DType.F32}};
        for (DType[] pair : pairs) {
            Tensor src = values(pair[0], shape);
            Tensor want = cpuEmpty(pair[1], shape);
            cpu.copy(src, want);
            Tensor got = poisoned(pair[1], shape);
            cuda.copy(gpu(src), got);
            worst = Math.max(worst, exact(got, want));
        }
        return result("copy-contiguous-casts", worst, 0, "f32 <-> bf16, f16", shape);
    }

    /**
     * An embedding backward whose (table rows x ids) passes the deterministic kernel's budget, so
     * the backend takes the atomic scatter (its sum order is not fixed: f32 tolerance).
     */
    private Result embeddingLargeTable() {
        long count = 1024;
        long vocab = (1L << 26) / count + 1 + rng.nextInt(1000);
        long dimension = 1 + rng.nextInt(4);
        Tensor ids = ids(vocab, count);
        Tensor gOut = normal(count, dimension);
        Tensor gTable0 = normal(vocab, dimension);
        Tensor want = gTable0.contiguousCopy();
        cpu.embeddingBackward(gOut, ids, want);
        Tensor got = gpu(gTable0);
        cuda.embeddingBackward(gpu(gOut), gpu(ids), got);
        return result("embedding-large-table", error(got, want), F32, "vocab", vocab, "dim", dimension, "ids", count,
                "(atomic scatter-add)");
    }

    private Result embedding() {
        long vocab = dim();
        long dimension = dim();
        long count = dim(scale.maxTokens);
        Tensor table = normal(vocab, dimension);
        Tensor ids = ids(vocab, count);
        Tensor gOut = normal(count, dimension);
        Tensor gTable0 = normal(vocab, dimension);
        Tensor want = cpuEmpty(DType.F32, count, dimension);
        cpu.embedding(table, ids, want);
        Tensor wantG = gTable0.contiguousCopy();
        cpu.embeddingBackward(gOut, ids, wantG);
        Tensor got = poisoned(DType.F32, count, dimension);
        cuda.embedding(gpu(table), gpu(ids), got);
        Tensor gotG = gpu(gTable0);
        cuda.embeddingBackward(gpu(gOut), gpu(ids), gotG);
        return result("embedding", Math.max(exact(got, want), error(gotG, wantG)), F32, "vocab", vocab, "dim", dimension,
                "ids", count, "(repeats), lookup exact, scatter-add accumulated");
    }

    private Result indexCopyRows() {
        long rows = dim(scale.maxTokens) + 2;
        long dimension = dim();
        long count = 1 + rng.nextLong(rows);
        long[] all = new long[Math.toIntExact(rows)];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        for (int i = all.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            long t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        Tensor index = Tensor.of(Arrays.copyOf(all, (int) count), count);
        Tensor dst0 = normal(rows, dimension);
        Tensor src = normal(count, dimension);
        Tensor want = dst0.contiguousCopy();
        cpu.indexCopyRows(want, index, src);
        Tensor got = gpu(dst0);
        cuda.indexCopyRows(got, gpu(index), gpu(src));
        return result("index-copy-rows", exact(got, want), 0, count, "of", rows, "rows of", dimension);
    }

    private enum Mode { CAUSAL, CAUSAL_LONGER_KV, MASK, NONE }

    private Result attention(Mode mode) {
        String name = switch (mode) {
            case CAUSAL -> "attention-causal-gqa";
            case CAUSAL_LONGER_KV -> "attention-causal-kv-longer";
            case MASK -> "attention-mask-empty-rows";
            case NONE -> "attention-none-strided";
        };
        long batch = 1 + rng.nextInt(2);
        long kvHeads = 1 + rng.nextInt(2);
        long hq = kvHeads * (1 + rng.nextInt(3));
        long headDim = new long[] {8, 16, 33, 64}[rng.nextInt(4)];
        long tq = dim(scale.maxTokens / 2);
        long tk = mode == Mode.CAUSAL ? tq : mode == Mode.CAUSAL_LONGER_KV ? tq + dim(scale.maxTokens / 4) : dim(scale.maxTokens / 2);
        float scaleFactor = (float) (1 / Math.sqrt(headDim));
        // q as a [B, T, H, D] tensor viewed [B, H, T, D] (the model's layout): strided.
        Tensor qBase = normal(batch, tq, hq, headDim);
        Tensor k = normal(batch, kvHeads, tk, headDim);
        Tensor v = normal(batch, kvHeads, tk, headDim);
        Tensor dOut = normal(batch, hq, tq, headDim);
        Tensor mask = null;
        if (mode == Mode.MASK) {
            boolean[] bits = new boolean[Math.toIntExact(batch * tq * tk)];
            for (int i = 0; i < bits.length; i++) {
                bits[i] = rng.nextInt(3) != 0;
            }
            // Some rows see no key at all (they must give 0 and zero gradients).
            for (int r = 0; r < batch * tq; r += 3) {
                Arrays.fill(bits, (int) (r * tk), (int) ((r + 1) * tk), false);
            }
            mask = Tensor.of(bits, batch, tq, tk);
        }
        boolean causal = mode == Mode.CAUSAL || mode == Mode.CAUSAL_LONGER_KV;
        Tensor q = qBase.transpose(1, 2);
        Tensor out = cpuEmpty(DType.F32, batch, hq, tq, headDim);
        Tensor lse = cpuEmpty(DType.F32, batch, hq, tq);
        cpu.attention(q, k, v, mask, causal, scaleFactor, out, lse);
        Tensor dq = cpuEmpty(DType.F32, batch, hq, tq, headDim);
        Tensor dk = cpuEmpty(DType.F32, k.shape());
        Tensor dv = cpuEmpty(DType.F32, v.shape());
        cpu.attentionBackward(q, k, v, mask, causal, scaleFactor, out, lse, dOut, dq, dk, dv);

        Tensor qg = gpu(qBase).transpose(1, 2);
        Tensor kg = gpu(k);
        Tensor vg = gpu(v);
        Tensor maskg = mask == null ? null : gpu(mask);
        Tensor outg = poisoned(DType.F32, batch, hq, tq, headDim);
        Tensor lseg = poisoned(DType.F32, batch, hq, tq);
        cuda.attention(qg, kg, vg, maskg, causal, scaleFactor, outg, lseg);
        Tensor dqg = poisoned(DType.F32, dq.shape());
        Tensor dkg = poisoned(DType.F32, dk.shape());
        Tensor dvg = poisoned(DType.F32, dv.shape());
        cuda.attentionBackward(qg, kg, vg, maskg, causal, scaleFactor, outg, lseg, gpu(dOut), dqg, dkg, dvg);
        double e = Math.max(Math.max(error(outg, out), error(lseg, lse)),
                Math.max(error(dqg, dq), Math.max(error(dkg, dk), error(dvg, dv))));
        return result(name, e, F32, "B", batch, "Hq/Hkv", hq + "/" + kvHeads, "Tq", tq, "Tk", tk, "D", headDim,
                "out, lse, dq, dk, dv");
    }

    private Result crossEntropy() {
        long rows = dim(scale.maxTokens);
        long vocab = dim(4 * scale.maxDim) + 1;
        long ignore = F.IGNORE_INDEX;
        Tensor logits = normal(rows, vocab).mul(3);
        long[] t = new long[Math.toIntExact(rows)];
        for (int i = 0; i < t.length; i++) {
            t[i] = rng.nextInt(4) == 0 ? ignore : rng.nextLong(vocab);
        }
        t[0] = rng.nextLong(vocab);
        Tensor targets = Tensor.of(t, rows);
        float scaleFactor = (float) rng.nextDouble();
        Tensor lse = cpuEmpty(DType.F32, rows);
        double[] want = cpu.crossEntropy(logits, targets, ignore, lse);
        Tensor g = cpuEmpty(DType.F32, rows, vocab);
        cpu.crossEntropyBackward(logits, targets, ignore, lse, scaleFactor, g);
        Tensor logitsg = gpu(logits);
        Tensor targetsg = gpu(targets);
        Tensor lseg = poisoned(DType.F32, rows);
        double[] got = cuda.crossEntropy(logitsg, targetsg, ignore, lseg);
        Tensor gg = poisoned(DType.F32, rows, vocab);
        cuda.crossEntropyBackward(logitsg, targetsg, ignore, lseg, scaleFactor, gg);
        double e = Math.max(Math.abs(got[0] - want[0]) / Math.abs(want[0]), got[1] == want[1] ? 0 : 1);
        e = Math.max(e, Math.max(error(lseg, lse), error(gg, g)));
        return result("cross-entropy", e, F32, rows + "x" + vocab, "labelled", (long) want[1],
                "loss sum, count, lse, dlogits");
    }

    private Result adamw() {
        long n = dim() * dim() + 5;
        Tensor p = normal(n);
        Tensor grad = normal(n);
        Tensor m = normal(n).mul(0.1);
        Tensor v = uniform(0, 0.5, n);
        int step = 1 + rng.nextInt(20);
        // A large step, so that f32 rounding of p (1e-7 of |p|) stays far below the update compared.
        float lr = 0.1f;
        Tensor pc = p.contiguousCopy();
        Tensor mc = m.contiguousCopy();
        Tensor vc = v.contiguousCopy();
        cpu.adamw(pc, grad, mc, vc, lr, 0.9f, 0.95f, 1e-8f, 0.05f, step);
        Tensor pg = gpu(p);
        Tensor mg = gpu(m);
        Tensor vg = gpu(v);
        cuda.adamw(pg, gpu(grad), mg, vg, lr, 0.9f, 0.95f, 1e-8f, 0.05f, step);
        // The update itself (p - p0), not p, so a wrong step cannot hide under the parameter's size.
        double e = relativeError(difference(pg, p), difference(pc, p));
        e = Math.max(e, Math.max(error(mg, mc), error(vg, vc)));
        return result("adamw", e, F32, n, "parameters, step", step, "(update, m, v)");
    }

    private static float[] difference(Tensor after, Tensor before) {
        float[] a = after.toFloatArray();
        float[] b = before.toFloatArray();
        float[] d = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
        }
        return d;
    }
}
