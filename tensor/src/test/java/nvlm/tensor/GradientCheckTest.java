package nvlm.tensor;

import static nvlm.tensor.testing.GradCheck.leaf;

import java.util.List;
import java.util.SplittableRandom;
import nvlm.kernels.DType;
import nvlm.tensor.testing.GradCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every differentiable operation's gradient against central finite differences. */
class GradientCheckTest {
    private final SplittableRandom rng = new SplittableRandom(42);
    private final GradCheck check = GradCheck.standard();

    @ParameterizedTest
    @EnumSource(UnaryOp.class)
    void unaryOps(UnaryOp op) {
        // Domains where each function is smooth: positive inputs for log/sqrt/rsqrt/reciprocal,
        // away from 0 for abs/relu (their kink).
        Tensor x = switch (op) {
            case LOG, SQRT, RSQRT, RECIPROCAL -> Tensor.of(positive(7), 7);
            case ABS, RELU -> Tensor.of(awayFromZero(7), 7);
            default -> Tensor.randn(new java.util.Random(op.ordinal()), 7);
        };
        x = x.requiresGrad(true);
        check.check(op.name(), in -> Ops.unary(op, in.getFirst()), List.of(x));
    }

    @ParameterizedTest
    @EnumSource(value = BinaryOp.class, names = {"ADD", "SUB", "MUL", "DIV", "MAX", "MIN"})
    void binaryOpsWithBroadcasting(BinaryOp op) {
        Tensor a = leaf(rng, 1, 3, 1, 5);
        Tensor b = op == BinaryOp.DIV ? Tensor.of(positive(4 * 5), 4, 5).requiresGrad(true) : leaf(rng, 1, 4, 5);
        if (op == BinaryOp.MAX || op == BinaryOp.MIN) {
            // Finite differences are meaningless across the kink a == b: keep every broadcast pair
            // further apart than the step by drawing a from a coarse grid and b between grid points.
            a = Tensor.of(grid(15, 0.5, 0), 3, 1, 5).requiresGrad(true);
            b = Tensor.of(grid(20, 0.5, 0.25), 4, 5).requiresGrad(true);
        }
        check.check(op.name(), in -> Ops.binary(op, in.get(0), in.get(1)), List.of(a, b));
    }

    @Test
    void powWithTensorExponent() {
        Tensor a = Tensor.of(positive(6), 2, 3).requiresGrad(true);
        Tensor b = leaf(rng, 0.5, 3);
        check.check("pow", in -> Ops.binary(BinaryOp.POW, in.get(0), in.get(1)), List.of(a, b));
    }

    @Test
    void scalarArithmeticAndPow() {
        Tensor x = Tensor.of(positive(5), 5).requiresGrad(true);
        check.check("affine", in -> in.getFirst().mul(3).add(2).sub(1).div(4), List.of(x));
        check.check("pow 3.5", in -> in.getFirst().pow(3.5), List.of(x));
    }

    @Test
    void reductions() {
        Tensor x = leaf(rng, 1, 3, 4, 2);
        check.check("sum dim1", in -> in.getFirst().sum(1, false), List.of(x));
        check.check("sum keepdim", in -> in.getFirst().sum(2, true), List.of(x));
        check.check("mean", in -> in.getFirst().mean(0, false), List.of(x));
        check.check("sum all", in -> in.getFirst().sum(), List.of(x));
        check.check("amax", in -> in.getFirst().amax(1, false), List.of(x));
        check.check("amin", in -> in.getFirst().amin(-1, true), List.of(x));
    }

    @Test
    void softmaxAndLogSoftmaxAlongEveryDim() {
        Tensor x = leaf(rng, 2, 2, 3, 5);
        for (int d = 0; d < 3; d++) {
            int dim = d;
            check.check("softmax " + d, in -> in.getFirst().softmax(dim), List.of(x));
            check.check("logSoftmax " + d, in -> in.getFirst().logSoftmax(dim), List.of(x));
        }
    }

    @Test
    void matmulShapes() {
        check.check("2d", in -> in.get(0).matmul(in.get(1)), List.of(leaf(rng, 1, 3, 4), leaf(rng, 1, 4, 5)));
        check.check("batched broadcast", in -> in.get(0).matmul(in.get(1)),
                List.of(leaf(rng, 1, 2, 1, 3, 4), leaf(rng, 1, 3, 4, 2)));
        check.check("3d @ 2d", in -> in.get(0).matmul(in.get(1)), List.of(leaf(rng, 1, 2, 3, 4), leaf(rng, 1, 4, 5)));
        check.check("vector", in -> in.get(0).matmul(in.get(1)), List.of(leaf(rng, 1, 4), leaf(rng, 1, 4, 3)));
        check.check("transposed views", in -> in.get(0).t().matmul(in.get(1).t()),
                List.of(leaf(rng, 1, 4, 3), leaf(rng, 1, 5, 4)));
        check.check("permuted batch", in -> in.get(0).permute(1, 0, 2).matmul(in.get(1)),
                List.of(leaf(rng, 1, 3, 2, 4), leaf(rng, 1, 2, 4, 3)));
    }

    @Test
    void linearWithAndWithoutBias() {
        Tensor x = leaf(rng, 1, 2, 3, 4);
        Tensor w = leaf(rng, 1, 5, 4);
        Tensor b = leaf(rng, 1, 5);
        check.check("linear+bias", in -> F.linear(in.get(0), in.get(1), in.get(2)), List.of(x, w, b));
        check.check("linear", in -> F.linear(in.get(0), in.get(1), null), List.of(x, w));
    }

    @Test
    void norms() {
        Tensor x = leaf(rng, 1, 3, 6);
        Tensor w = leaf(rng, 1, 6);
        Tensor b = leaf(rng, 1, 6);
        check.check("layerNorm", in -> F.layerNorm(in.get(0), in.get(1), in.get(2), 1e-5), List.of(x, w, b));
        check.check("layerNorm no bias", in -> F.layerNorm(in.get(0), in.get(1), null, 1e-5), List.of(x, w));
        check.check("rmsNorm", in -> F.rmsNorm(in.get(0), in.get(1), 1e-6), List.of(x, w));
    }

    @Test
    void embeddingIndexSelectGatherAndIndexCopy() {
        Tensor table = leaf(rng, 1, 5, 3);
        Tensor ids = Tensor.of(new long[] {4, 0, 4, 2}, 2, 2);
        check.check("embedding", in -> F.embedding(ids, in.getFirst()), List.of(table));
        check.check("indexSelect dim1", in -> in.getFirst().indexSelect(1, Tensor.of(new long[] {2, 0, 2})), List.of(table));
        Tensor index = Tensor.of(new long[] {0, 2, 1, 1, 0, 0}, 2, 3);
        check.check("gather", in -> in.getFirst().narrow(0, 0, 2).gather(1, index), List.of(table));
        Tensor src = leaf(rng, 1, 2, 3);
        check.check("indexCopyRows", in -> F.indexCopyRows(in.get(0), Tensor.of(new long[] {3, 1}), in.get(1)),
                List.of(table, src));
    }

    @Test
    void viewsAndCopies() {
        Tensor x = leaf(rng, 1, 2, 3, 4);
        check.check("reshape", in -> in.getFirst().reshape(4, -1), List.of(x));
        check.check("permute", in -> in.getFirst().permute(2, 0, 1).contiguous(), List.of(x));
        check.check("narrow", in -> in.getFirst().narrow(2, 1, 2), List.of(x));
        check.check("select", in -> in.getFirst().select(1, -1), List.of(x));
        check.check("expand", in -> in.getFirst().narrow(1, 0, 1).expand(2, 5, 4), List.of(x));
        check.check("unsqueeze/squeeze", in -> in.getFirst().unsqueeze(1).squeeze(1).flatten(0, 1), List.of(x));
        check.check("cat", in -> Tensor.cat(1, in.get(0), in.get(0).narrow(1, 0, 1)), List.of(x));
        check.check("stack", in -> Tensor.stack(0, List.of(in.get(0), in.get(0).mul(2))), List.of(x));
    }

    @Test
    void dtypeConversionsPassGradientsThrough() {
        // Rounding to bf16 is piecewise constant, so finite differences do not apply; its
        // gradient is defined as the identity (as in PyTorch), checked exactly here.
        Tensor x = leaf(rng, 1, 2, 3);
        Tensor r = Tensor.randn(new java.util.Random(5), 2, 3);
        x.to(DType.BF16).to(DType.F32).mul(r).sum().backward();
        org.junit.jupiter.api.Assertions.assertArrayEquals(r.toFloatArray(), x.grad().toFloatArray());
    }

    @Test
    void whereAndMaskedFill() {
        Tensor a = leaf(rng, 1, 3, 4);
        Tensor b = leaf(rng, 1, 4);
        Tensor cond = Tensor.of(new boolean[] {true, false, false, true}, 4);
        check.check("where", in -> Tensor.where(cond, in.get(0), in.get(1)), List.of(a, b));
        check.check("maskedFill", in -> in.get(0).maskedFill(cond, -3), List.of(a));
    }

    @Test
    void rope() {
        Tensor x = leaf(rng, 1, 2, 3, 2, 4);
        check.check("rope", in -> F.rope(in.getFirst(), 5, 10000.0), List.of(x));
    }

    @Test
    void attentionCausalMaskedAndGrouped() {
        Tensor q = leaf(rng, 1, 1, 4, 3, 2);
        Tensor k = leaf(rng, 1, 1, 2, 5, 2);
        Tensor v = leaf(rng, 1, 1, 2, 5, 2);
        check.check("causal GQA", in -> F.attention(in.get(0), in.get(1), in.get(2), null, true, 0.7), List.of(q, k, v));
        Tensor mask = Tensor.of(new boolean[] {true, false, true, true, false, false, false, false, false, false,
            false, true, false, true, true}, 1, 3, 5);
        check.check("masked (one empty row)", in -> F.attention(in.get(0), in.get(1), in.get(2), mask, false, 0.7),
                List.of(q, k, v));
        check.check("strided views", in -> F.attention(in.get(0).transpose(1, 2).transpose(1, 2), in.get(1), in.get(2), null,
                false, 1.0), List.of(q, k, v));
    }

    @Test
    void crossEntropyWithIgnoredRows() {
        Tensor logits = leaf(rng, 2, 4, 6);
        Tensor targets = Tensor.of(new long[] {5, -100, 0, 3});
        check.check("crossEntropy", in -> F.crossEntropy(in.getFirst(), targets, -100), List.of(logits));
    }

    private float[] positive(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (0.5 + rng.nextDouble() * 2);
        }
        return v;
    }

    /** n values k*step + shift in shuffled order, k in [-n/2, n/2). */
    private float[] grid(int n, double step, double shift) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((i - n / 2) * step + shift);
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            float t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        return v;
    }

    private float[] awayFromZero(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((0.2 + rng.nextDouble()) * (rng.nextBoolean() ? 1 : -1));
        }
        return v;
    }
}
