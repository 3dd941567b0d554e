package nvlm.kernels.gpu;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import nvlm.kernels.AttentionMask;
import nvlm.kernels.AttentionShape;
import nvlm.kernels.DType;
import nvlm.kernels.gpu.Attention.MaskBytes;
import nvlm.kernels.gpu.Attention.Strides;
import nvlm.kernels.translator.BF16Buffer;
import nvlm.kernels.translator.F16Buffer;
import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.I32Buffer;
import nvlm.kernels.translator.I64Buffer;
import nvlm.kernels.translator.I8Buffer;
import nvlm.kernels.translator.KernelLaunch;
import nvlm.kernels.translator.ParityCase;

/**
 * Launches of every kernel on small random problems, each with its inputs and the CPU's result:
 * what another executor of the translated kernel (the host C build here, a GPU elsewhere) must
 * reproduce. Launches that depend on earlier ones (the attention backward on the forward) take
 * their inputs from the CPU run of those.
 */
final class ParityCases {
    private ParityCases() {
    }

    // CUDA's exp/log/tanh are a few ulp from Java's, and nvcc contracts a*b+c into fused
    // multiply-adds; outputs are O(1), reductions are over <= a few thousand terms.
    static final double ATOL = 2e-5;
    static final double RTOL = 2e-4;

    static List<ParityCase> build(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<ParityCase> cases = new ArrayList<>();
        int n = 1000;
        for (int op = 0; op < Elementwise.UNARY_OPS; op++) {
            boolean positive = op == Elementwise.LOG || op == Elementwise.SQRT || op == Elementwise.RSQRT
                    || op == Elementwise.RECIPROCAL;
            float[] x = positive ? Fixtures.uniform(random, n, 0.05, 20) : Fixtures.gaussian(random, n, 3);
            add(cases, "unary op " + op, Elementwise.unary(op, f32(x), f32(n), n));
            add(cases, "unary backward op " + op, Elementwise.unaryBackward(op, f32(x), f32(g(random, n)), f32(n), n));
        }
        for (int op = 0; op < Elementwise.BINARY_OPS; op++) {
            // pow of a negative base is NaN unless the exponent is whole: positive bases here.
            float[] a = op == Elementwise.POW ? Fixtures.uniform(random, n, 0.1, 4) : g(random, n);
            add(cases, "binary op " + op, Elementwise.binary(op, f32(a), f32(g(random, n)), f32(n), n));
        }
        add(cases, "broadcast bias row", Elementwise.broadcast(Elementwise.ADD, f32(g(random, 7 * 33)), new long[] {33, 1},
                f32(g(random, 33)), new long[] {0, 1}, f32(7 * 33), new long[] {7, 33}));
        add(cases, "broadcast transposed", Elementwise.broadcast(Elementwise.MUL, f32(g(random, 2 * 3 * 5 * 7)),
                new long[] {105, 1, 3, 15}, f32(g(random, 5)), new long[] {0, 0, 1, 0}, f32(210), new long[] {2, 5, 3, 7}));
        add(cases, "broadcast rank 6", Elementwise.broadcast(Elementwise.POW, f32(Fixtures.uniform(random, 96, 0.1, 4)),
                new long[] {48, 0, 12, 4, 2, 1}, f32(g(random, 10)), new long[] {0, 4, 0, 2, 0, 1}, f32(192),
                new long[] {2, 2, 4, 3, 2, 2}));
        add(cases, "compare", Elementwise.compare(Elementwise.LE, f32(g(random, 7 * 33)), new long[] {33, 1},
                f32(g(random, 33)), new long[] {0, 1}, I8Buffer.wrap(new byte[7 * 33]), new long[] {7, 33}));
        byte[] condition = new byte[7];
        for (int i = 0; i < condition.length; i++) {
            condition[i] = (byte) random.nextInt(2);
        }
        add(cases, "where", Elementwise.where(I8Buffer.wrap(condition), new long[] {1, 0}, f32(g(random, 7 * 33)),
                new long[] {33, 1}, f32(g(random, 33)), new long[] {0, 1}, f32(7 * 33), new long[] {7, 33}));
        add(cases, "affine", Elementwise.affine(f32(g(random, n)), f32(n), n, 0.75f, -2f));
        add(cases, "axpy", Elementwise.axpy(-1.5f, f32(g(random, n)), f32(g(random, n)), n));

        float[] wide = g(random, n);
        wide[0] = Float.NaN;
        wide[1] = 1e30f;
        wide[2] = 65520f;
        wide[3] = 1e-7f;
        add(cases, "f32 to bf16", Cast.f32ToBf16(f32(wide), BF16Buffer.wrapBits(new short[n]), n));
        add(cases, "bf16 to f32", Cast.bf16ToF32(BF16Buffer.fromFloats(wide), f32(n), n));
        add(cases, "f32 to f16", Cast.f32ToF16(f32(wide), F16Buffer.wrapBits(new short[n]), n));
        short[] halves = new short[n];
        for (int i = 0; i < n; i++) {
            halves[i] = (short) random.nextInt(0x10000);
        }
        add(cases, "f16 to f32", Cast.f16ToF32(F16Buffer.wrapBits(halves), f32(n), n));
        add(cases, "pack bf16 operands", Cast.packBf16(f32(g(random, 2 * 5 * 9)), 45, 9, BF16Buffer.wrapBits(new short[2 * 5 * 7]),
                2, 5, 7));
        long[] shape = {2, 3, 4, 5};
        add(cases, "strided copy f32", StridedCopy.f32(f32(g(random, 120)), new long[] {60, 1, 15, 3}, f32(120),
                StridedCopy.contiguousStrides(shape), shape));
        add(cases, "strided copy bf16", StridedCopy.bf16(BF16Buffer.fromFloats(g(random, 120)), new long[] {1, 2, 6, 24},
                BF16Buffer.wrapBits(new short[120]), StridedCopy.contiguousStrides(shape), shape));
        float[] mixed = g(random, 120);
        mixed[0] = Float.NaN;
        mixed[1] = 3e9f;
        mixed[2] = -3e9f;
        mixed[3] = 70000f;
        add(cases, "convert f32 to i32", StridedCopy.convert(DType.F32, f32(mixed), new long[] {60, 1, 15, 3}, DType.I32,
                I32Buffer.wrap(new int[120]), StridedCopy.contiguousStrides(shape), shape));
        add(cases, "convert f32 to f16", StridedCopy.convert(DType.F32, f32(mixed), new long[] {60, 1, 15, 3}, DType.F16,
                F16Buffer.wrapBits(new short[120]), StridedCopy.contiguousStrides(shape), shape));
        long[] integers = new long[120];
        for (int i = 0; i < integers.length; i++) {
            integers[i] = random.nextLong() >> random.nextInt(64);
        }
        add(cases, "convert i64 to i32", StridedCopy.convert(DType.I64, I64Buffer.wrap(integers), new long[] {60, 1, 15, 3},
                DType.I32, I32Buffer.wrap(new int[120]), StridedCopy.contiguousStrides(shape), shape));
        add(cases, "convert i64 to bool", StridedCopy.convert(DType.I64, I64Buffer.wrap(integers), new long[] {60, 1, 15, 3},
                DType.BOOL, I8Buffer.wrap(new byte[120]), StridedCopy.contiguousStrides(shape), shape));
        add(cases, "fill i64", StridedCopy.fill(DType.I64, I64Buffer.wrap(new long[n]), n, -3e10));
        add(cases, "fill bf16", StridedCopy.fill(DType.BF16, BF16Buffer.wrapBits(new short[n]), n, 1.0 / 3));

        int rows = 9;
        int cols = 301;
        for (int op = Reduce.SUM; op <= Reduce.MIN; op++) {
            add(cases, "last axis op " + op, Reduce.lastAxis(op, f32(g(random, rows * cols)), f32(rows), rows, cols));
            F32Buffer x = f32(g(random, 3 * 150 * 5));
            F32Buffer chunkPartial = f32((int) Reduce.partialLength(3, 150, 5));
            List<KernelLaunch> passes = Reduce.chunked(op, x, chunkPartial, f32(15), 3, 150, 5);
            add(cases, "chunks op " + op, passes.get(0));
            passes.get(0).runOnCpu();
            add(cases, "combine chunks op " + op, passes.get(1));
        }
        float[] ties = g(random, rows * cols);
        ties[5] = Float.NaN;
        ties[cols + 7] = ties[cols + 9] = 50f;
        add(cases, "argmax", Reduce.argmax(f32(ties), I64Buffer.wrap(new long[rows]), rows, cols, 1));
        int squares = 5000;
        // The partials are raw double bits, compared exactly: a GPU run must not fuse v * v + acc.
        cases.add(ParityCase.run("sum of squares", Reduce.squares(f32(g(random, squares)),
                I64Buffer.wrap(new long[64 * Launches.THREADS]), squares), ATOL, RTOL, List.of("--fmad=false")));
        int tall = 150;
        int chunks = Math.toIntExact(Reduce.chunks(tall));
        add(cases, "column sum final", Reduce.columnSumFinal(f32(g(random, chunks * cols)), f32(g(random, cols)), chunks,
                cols, true));

        F32Buffer probabilities = f32(rows * cols);
        F32Buffer logProbabilities = f32(rows * cols);
        float[] logits = Fixtures.gaussian(random, rows * cols, 10);
        add(cases, "softmax", Softmax.forward(f32(logits), probabilities, rows, cols));
        add(cases, "log softmax", Softmax.logForward(f32(logits), logProbabilities, rows, cols));
        add(cases, "softmax backward", Softmax.backward(probabilities, f32(g(random, rows * cols)), f32(rows * cols), rows, cols));
        add(cases, "log softmax backward", Softmax.logBackward(logProbabilities, f32(g(random, rows * cols)),
                f32(rows * cols), rows, cols));

        // Row kernels (barriers) on a few rows; the column passes of the weight gradients on many
        // (several chunks), with statistics from a forward that is not itself a case.
        float[] x = g(random, rows * cols);
        F32Buffer mean = f32(rows);
        F32Buffer rstd = f32(rows);
        add(cases, "layer norm", LayerNorm.forward(f32(x), f32(g(random, cols)), f32(g(random, cols)), f32(rows * cols),
                mean, rstd, rows, cols, 1e-5f));
        add(cases, "layer norm without bias", LayerNorm.forward(f32(x), f32(g(random, cols)), null, f32(rows * cols),
                f32(rows), f32(rows), rows, cols, 1e-5f));
        float[] dy = g(random, rows * cols);
        add(cases, "layer norm backward", LayerNorm.backward(f32(x), f32(g(random, cols)), mean, rstd, f32(dy),
                f32(rows * cols), rows, cols));
        F32Buffer rmsRstd = f32(rows);
        add(cases, "rms norm", RmsNorm.forward(f32(x), f32(g(random, cols)), f32(rows * cols), rmsRstd, rows, cols, 1e-6f));
        add(cases, "rms norm backward", RmsNorm.backward(f32(x), f32(g(random, cols)), rmsRstd, f32(dy), f32(rows * cols),
                rows, cols));
        float[] xTall = g(random, tall * cols);
        float[] dyTall = g(random, tall * cols);
        F32Buffer meanTall = f32(tall);
        F32Buffer rstdTall = f32(tall);
        LayerNorm.forward(f32(xTall), f32(g(random, cols)), null, f32(tall * cols), meanTall, rstdTall, tall, cols, 1e-5f)
                .runOnCpu();
        add(cases, "layer norm weight grads", LayerNorm.weightGradPartial(f32(xTall), meanTall, rstdTall, f32(dyTall),
                f32(chunks * cols), f32(chunks * cols), tall, cols));
        add(cases, "rms norm weight grad", RmsNorm.weightGradPartial(f32(xTall), rstdTall, f32(dyTall), f32(chunks * cols),
                tall, cols));

        int seq = 37;
        int heads = 3;
        int headDim = 16;
        int positions = 1100;
        F32Buffer table = f32(Rope.table(headDim, 1_000_000, positions));
        add(cases, "rope", Rope.rotate(f32(g(random, 2 * seq * heads * headDim)), f32(2 * seq * heads * headDim), table, 2,
                seq, heads, headDim, 1000, positions, false));
        add(cases, "rope backward", Rope.rotate(f32(g(random, 2 * seq * heads * headDim)), f32(2 * seq * heads * headDim),
                table, 2, seq, heads, headDim, 0, positions, true));

        int vocab = 50;
        int dim = 40;
        long[] ids = new long[seq * 3];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextInt(vocab + 1) - (i == 3 ? vocab + 5 : 0);  // one id past the table, one negative
        }
        add(cases, "embedding", Embedding.gather(f32(g(random, vocab * dim)), I64Buffer.wrap(ids), f32(ids.length * dim),
                ids.length, dim, vocab));
        float[] dout = g(random, ids.length * dim);
        add(cases, "embedding backward", Embedding.scatterAdd(f32(dout), I64Buffer.wrap(ids), f32(g(random, vocab * dim)),
                ids.length, dim, vocab));
        add(cases, "embedding backward atomic", GpuKernel.of(Embedding.class, "scatterAddAtomicKernel").launch(
                Launches.elementwise((long) ids.length * dim), f32(dout), I64Buffer.wrap(ids), f32(g(random, vocab * dim)),
                (long) ids.length, (long) dim, (long) vocab));
        // Distinct in-range targets: two source rows copied to one row race (the last block to write
        // wins), so with repeated ids the parity of this case depended on block order.
        long[] rowTargets = new long[ids.length];
        for (int i = 0; i < rowTargets.length; i++) {
            rowTargets[i] = i < vocab ? i : (i % 2 == 0 ? -1 - i : vocab + i);
        }
        for (int i = vocab - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            long t = rowTargets[i];
            rowTargets[i] = rowTargets[j];
            rowTargets[j] = t;
        }
        add(cases, "index copy rows", Embedding.copyRows(f32(g(random, vocab * dim)), I64Buffer.wrap(rowTargets),
                f32(g(random, ids.length * dim)), ids.length, dim, vocab));

        long[] targets = new long[rows];
        for (int r = 0; r < rows; r++) {
            targets[r] = r % 4 == 0 ? -100 : random.nextInt(cols);
        }
        targets[1] = cols + 2;  // out of range: flagged for the host
        F32Buffer lse = f32(rows);
        add(cases, "cross entropy", CrossEntropy.forward(f32(logits), I64Buffer.wrap(targets), -100, lse, f32(3 * rows),
                rows, cols));
        add(cases, "cross entropy backward", CrossEntropy.backward(f32(logits), I64Buffer.wrap(targets), -100, lse, 0.37f,
                f32(rows * cols), rows, cols));

        add(cases, "adamw", AdamW.step(f32(g(random, n)), f32(g(random, n)), f32(g(random, n)),
                f32(Fixtures.uniform(random, n, 0, 1)), n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 3, 1f));

        attention(cases, random);
        return cases;
    }

    private static void attention(List<ParityCase> cases, SplittableRandom random) {
        AttentionShape shape = new AttentionShape(2, 4, 2, 37, 37, 24, (float) (1 / Math.sqrt(24)), AttentionMask.CAUSAL);
        Strides strides = Strides.contiguous(37, 4, 24);
        Strides kvStrides = Strides.contiguous(37, 2, 24);
        int qn = 2 * 37 * 4 * 24;
        int kvn = 2 * 37 * 2 * 24;
        F32Buffer q = f32(g(random, qn));
        F32Buffer k = f32(g(random, kvn));
        F32Buffer v = f32(g(random, kvn));
        F32Buffer o = f32(qn);
        F32Buffer lse = f32(2 * 4 * 37);
        add(cases, "attention causal gqa", Attention.forward(shape, MaskBytes.NONE, q, strides, k, v, kvStrides, o, strides,
                lse));
        List<KernelLaunch> backward = Attention.backward(shape, MaskBytes.NONE, q, f32(qn), strides, k, v, f32(kvn), f32(kvn),
                kvStrides, o, f32(g(random, qn)), strides, lse, f32(2 * 4 * 37));
        String[] names = {"attention backward delta", "attention backward dq", "attention backward dk dv"};
        for (int i = 0; i < backward.size(); i++) {
            add(cases, names[i], backward.get(i));
        }
        byte[] mask = new byte[2 * 37 * 37];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = (byte) (random.nextInt(4) == 0 ? 0 : 1);
        }
        java.util.Arrays.fill(mask, 5 * 37, 6 * 37, (byte) 0);  // a query that sees nothing
        AttentionShape explicit = new AttentionShape(2, 4, 2, 37, 37, 24, (float) (1 / Math.sqrt(24)),
                AttentionMask.EXPLICIT);
        add(cases, "attention explicit mask", Attention.forward(explicit, new MaskBytes(I8Buffer.wrap(mask), 37 * 37, 0, 37),
                q, strides, k, v, kvStrides, f32(qn), strides, f32(2 * 4 * 37)));
    }

    private static void add(List<ParityCase> cases, String label, KernelLaunch launch) {
        cases.add(ParityCase.run(label, launch, ATOL, RTOL, List.of()));
    }

    private static float[] g(SplittableRandom random, int n) {
        return Fixtures.gaussian(random, n, 1);
    }

    private static F32Buffer f32(float[] values) {
        return F32Buffer.wrap(values.clone());
    }

    private static F32Buffer f32(int n) {
        return F32Buffer.wrap(new float[n]);
    }
}
