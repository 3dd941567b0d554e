package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import nvlm.kernels.AttentionMask;
import nvlm.kernels.AttentionShape;
import nvlm.kernels.gpu.Attention.MaskBytes;
import nvlm.kernels.gpu.Attention.Strides;
import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.I8Buffer;
import nvlm.kernels.translator.KernelLaunch;
import org.junit.jupiter.api.Test;

class AttentionTest {

    /** One random attention problem: sizes, mask, layouts and data. */
    record Problem(AttentionShape shape, MaskBytes mask, byte[] maskBytes, Strides qs, Strides kvs, Strides os,
                   float[] q, float[] k, float[] v, float[] dO, int qLength, int kvLength, int oLength) {

        static Problem random(SplittableRandom random, int maxTokens, int maxDim) {
            int batch = random.nextInt(1, 3);
            int tq = random.nextInt(1, maxTokens + 1);
            int tk = random.nextBoolean() ? tq : random.nextInt(1, maxTokens + 1);
            int hkv = random.nextInt(1, 3);
            int hq = hkv * random.nextInt(1, 4);
            int dim = random.nextInt(1, maxDim + 1);
            AttentionMask kind = AttentionMask.values()[random.nextInt(3)];
            AttentionShape shape = new AttentionShape(batch, hq, hkv, tq, tk, dim, (float) (1 / Math.sqrt(dim)), kind);
            byte[] maskBytes = new byte[batch * hq * tq * tk];
            for (int i = 0; i < maskBytes.length; i++) {
                maskBytes[i] = (byte) (random.nextInt(10) < 7 ? 1 + random.nextInt(100) : 0);
            }
            // Some query rows see no key at all.
            for (int row = 0; row < batch * hq * tq; row++) {
                if (random.nextInt(6) == 0) {
                    java.util.Arrays.fill(maskBytes, row * tk, row * tk + tk, (byte) 0);
                }
            }
            MaskBytes mask = kind == AttentionMask.EXPLICIT
                    ? new MaskBytes(I8Buffer.wrap(maskBytes), (long) hq * tq * tk, (long) tq * tk, tk) : MaskBytes.NONE;
            // q inside a fused [batch, tq, hq + 2*hkv, dim] buffer, or a [batch, heads, tokens, dim] (transposed) layout.
            boolean fused = random.nextBoolean();
            Strides qs = fused ? new Strides((long) tq * (hq + 2 * hkv) * dim, (long) (hq + 2 * hkv) * dim, dim)
                    : new Strides((long) hq * tq * dim, dim, (long) tq * dim);
            Strides kvs = random.nextBoolean() ? Strides.contiguous(tk, hkv, dim)
                    : new Strides((long) hkv * tk * dim, dim, (long) tk * dim);
            Strides os = Strides.contiguous(tq, hq, dim);
            int qLength = (int) (fused ? (long) batch * tq * (hq + 2 * hkv) * dim : (long) batch * hq * tq * dim);
            int kvLength = batch * tk * hkv * dim;
            int oLength = batch * tq * hq * dim;
            return new Problem(shape, mask, maskBytes, qs, kvs, os, Fixtures.gaussian(random, qLength, 1),
                    Fixtures.gaussian(random, kvLength, 1), Fixtures.gaussian(random, kvLength, 1),
                    Fixtures.gaussian(random, oLength, 1), qLength, kvLength, oLength);
        }

        boolean visible(int b, int h, int i, int j) {
            return switch (shape.mask()) {
                case NONE -> true;
                case CAUSAL -> j <= i + shape.causalOffset();
                case EXPLICIT ->
                        maskBytes[(int) (b * mask.batchStride() + h * mask.headStride() + i * mask.rowStride() + j)] != 0;
            };
        }

        long at(Strides s, int b, int t, int h) {
            return b * s.batch() + t * s.token() + h * s.head();
        }
    }

    /** Outputs of the naive reference, in the same layouts as the kernel's. */
    record Expected(double[] o, double[] lse, double[] dq, double[] dk, double[] dv) {
    }

    static Expected reference(Problem p) {
        AttentionShape s = p.shape();
        int dim = s.headDim();
        double[] o = new double[p.oLength()];
        double[] lse = new double[s.batch() * s.qHeads() * s.qLen()];
        double[] dq = new double[p.qLength()];
        double[] dk = new double[p.kvLength()];
        double[] dv = new double[p.kvLength()];
        int group = s.qHeads() / s.kvHeads();
        for (int b = 0; b < s.batch(); b++) {
            for (int h = 0; h < s.qHeads(); h++) {
                int g = h / group;
                for (int i = 0; i < s.qLen(); i++) {
                    long qi = p.at(p.qs(), b, i, h);
                    long oi = p.at(p.os(), b, i, h);
                    double[] scores = new double[s.kvLen()];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < s.kvLen(); j++) {
                        scores[j] = Double.NEGATIVE_INFINITY;
                        if (p.visible(b, h, i, j)) {
                            long kj = p.at(p.kvs(), b, j, g);
                            double dot = 0;
                            for (int d = 0; d < dim; d++) {
                                dot += (double) p.q()[(int) (qi + d)] * p.k()[(int) (kj + d)];
                            }
                            scores[j] = dot * s.scale();
                            max = Math.max(max, scores[j]);
                        }
                    }
                    int row = (b * s.qHeads() + h) * s.qLen() + i;
                    if (max == Double.NEGATIVE_INFINITY) {
                        lse[row] = Double.NEGATIVE_INFINITY;
                        continue;  // output 0, no gradient
                    }
                    double sum = 0;
                    for (int j = 0; j < s.kvLen(); j++) {
                        sum += Math.exp(scores[j] - max);
                    }
                    lse[row] = max + Math.log(sum);
                    double[] prob = new double[s.kvLen()];
                    double[] dp = new double[s.kvLen()];
                    double delta = 0;
                    for (int j = 0; j < s.kvLen(); j++) {
                        prob[j] = Math.exp(scores[j] - lse[row]);
                        long vj = p.at(p.kvs(), b, j, g);
                        for (int d = 0; d < dim; d++) {
                            o[(int) (oi + d)] += prob[j] * p.v()[(int) (vj + d)];
                            dp[j] += (double) p.dO()[(int) (oi + d)] * p.v()[(int) (vj + d)];
                        }
                        delta += prob[j] * dp[j];
                    }
                    for (int j = 0; j < s.kvLen(); j++) {
                        double ds = prob[j] * (dp[j] - delta);
                        long kj = p.at(p.kvs(), b, j, g);
                        for (int d = 0; d < dim; d++) {
                            dq[(int) (qi + d)] += s.scale() * ds * p.k()[(int) (kj + d)];
                            dk[(int) (kj + d)] += s.scale() * ds * p.q()[(int) (qi + d)];
                            dv[(int) (kj + d)] += prob[j] * p.dO()[(int) (oi + d)];
                        }
                    }
                }
            }
        }
        return new Expected(o, lse, dq, dk, dv);
    }

    private static void checkAgainstReference(Problem p) {
        AttentionShape s = p.shape();
        Expected expected = reference(p);
        F32Buffer q = Fixtures.buffer(p.q());
        F32Buffer k = Fixtures.buffer(p.k());
        F32Buffer v = Fixtures.buffer(p.v());
        F32Buffer o = Fixtures.zeros(p.oLength());
        int rows = s.batch() * s.qHeads() * s.qLen();
        F32Buffer lse = Fixtures.zeros(rows);
        Attention.forward(s, p.mask(), q, p.qs(), k, v, p.kvs(), o, p.os(), lse).runOnCpu();
        String what = s + " " + p.qs() + " " + p.kvs();
        // float32 dot products over <= 40 dims and softmax sums over <= 40 keys against double.
        assertClose("O " + what, expected.o(), o, 2e-5, 1e-4);
        assertClose("lse " + what, expected.lse(), lse, 2e-5, 1e-5);

        F32Buffer dq = Fixtures.zeros(p.qLength());
        F32Buffer dk = Fixtures.zeros(p.kvLength());
        F32Buffer dv = Fixtures.zeros(p.kvLength());
        F32Buffer delta = Fixtures.zeros(rows);
        for (KernelLaunch launch : Attention.backward(s, p.mask(), q, dq, p.qs(), k, v, dk, dv, p.kvs(), o,
                Fixtures.buffer(p.dO()), p.os(), lse, delta)) {
            launch.runOnCpu();
        }
        // In the fused layout dQ leaves the k/v parts of the buffer untouched (0 both sides).
        assertClose("dQ " + what, expected.dq(), dq, 5e-5, 2e-4);
        assertClose("dK " + what, expected.dk(), dk, 5e-5, 2e-4);
        assertClose("dV " + what, expected.dv(), dv, 5e-5, 2e-4);
    }

    @Test
    void forwardAndBackwardMatchTheNaiveReference() {
        qt().withExamples(12).forAll(longs().all()).checkAssert(seed -> checkAgainstReference(
                Problem.random(new SplittableRandom(seed), 40, 40)));
    }

    @Test
    void theLargestHeadDimensionFitsTheTiles() {
        qt().withExamples(2).forAll(integers().between(0, 1000)).checkAssert(seed -> {
            SplittableRandom random = new SplittableRandom(seed);
            Problem p;
            do {
                p = Problem.random(random, 20, Attention.MAX_HEAD_DIM);
            } while (p.shape().headDim() < Attention.MAX_HEAD_DIM - 8);
            checkAgainstReference(p);
        });
    }

    @Test
    void aRowThatSeesNoKeyGetsZeroOutputAndZeroGradients() {
        // Causal with one key fewer than queries: query 0 sees keys j <= 0 + (2 - 3), i.e. none.
        AttentionShape s = new AttentionShape(1, 1, 1, 3, 2, 4, 0.5f, AttentionMask.CAUSAL);
        SplittableRandom random = new SplittableRandom(3);
        F32Buffer q = Fixtures.buffer(Fixtures.gaussian(random, 12, 1));
        F32Buffer k = Fixtures.buffer(Fixtures.gaussian(random, 8, 1));
        F32Buffer v = Fixtures.buffer(Fixtures.gaussian(random, 8, 1));
        F32Buffer o = Fixtures.zeros(12);
        F32Buffer lse = Fixtures.zeros(3);
        Strides strides = Strides.contiguous(3, 1, 4);
        Strides kvStrides = Strides.contiguous(2, 1, 4);
        Attention.forward(s, MaskBytes.NONE, q, strides, k, v, kvStrides, o, strides, lse).runOnCpu();
        for (int d = 0; d < 4; d++) {
            assertEquals(0f, o.get(d));
        }
        assertEquals(Float.NEGATIVE_INFINITY, lse.get(0));
        F32Buffer dq = Fixtures.buffer(Fixtures.gaussian(random, 12, 1));
        for (KernelLaunch launch : Attention.backward(s, MaskBytes.NONE, q, dq, strides, k, v, Fixtures.zeros(8),
                Fixtures.zeros(8), kvStrides, o, Fixtures.buffer(Fixtures.gaussian(random, 12, 1)), strides, lse,
                Fixtures.zeros(3))) {
            launch.runOnCpu();
        }
        for (int d = 0; d < 4; d++) {
            assertEquals(0f, dq.get(d), "dQ of the row with no visible key");
        }
    }

    @Test
    void headDimensionsBeyondTheTileAreRefused() {
        AttentionShape s = new AttentionShape(1, 2, 2, 4, 4, 129, 1f, AttentionMask.NONE);
        Strides strides = Strides.contiguous(4, 2, 129);
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> Attention.forward(s,
                MaskBytes.NONE, Fixtures.zeros(1032), strides, Fixtures.zeros(1032), Fixtures.zeros(1032), strides,
                Fixtures.zeros(1032), strides, Fixtures.zeros(8)));
        assertEquals("Attention.forward: head dimension 129 is outside 1..128", error.getMessage());
    }
}
