package nvlm.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;
import nvlm.kernels.AttentionMask;
import nvlm.kernels.AttentionShape;
import org.junit.jupiter.api.Test;

/** The reference is the ground truth for {@link Attention}, so its own math is checked from first principles. */
class AttentionReferenceTest {

    private record Case(AttentionShape shape, double[] q, double[] k, double[] v, double[] dOut, boolean[] allowed) {
        AttentionReference.Visibility visibility() {
            AttentionReference.Visibility geometric = AttentionReference.visibility(shape, null, 0, 0, 0);
            return switch (shape.mask()) {
                case EXPLICIT -> (b, i, j) -> allowed[(b * shape.qLen() + i) * shape.kvLen() + j];
                default -> geometric;
            };
        }

        /** sum(out * dOut): its gradient with respect to q, k, v is what backward returns for this dOut. */
        double loss() {
            double[] out = new double[q.length];
            AttentionReference.forward(shape, q, k, v, visibility(), out, new double[q.length / shape.headDim()]);
            double sum = 0;
            for (int i = 0; i < out.length; i++) {
                sum += out[i] * dOut[i];
            }
            return sum;
        }
    }

    private static Case randomCase(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int kvHeads = 1 + random.nextInt(2);
        int qHeads = kvHeads * (1 + random.nextInt(2));
        int qLen = 1 + random.nextInt(4);
        int kvLen = 1 + random.nextInt(4);
        int d = 1 + random.nextInt(3);
        int batch = 1 + random.nextInt(2);
        AttentionMask mask = AttentionMask.values()[random.nextInt(3)];
        AttentionShape shape = new AttentionShape(batch, qHeads, kvHeads, qLen, kvLen, d,
                (float) (0.5 + random.nextDouble()), mask);
        boolean[] allowed = new boolean[batch * qLen * kvLen];
        for (int i = 0; i < allowed.length; i++) {
            allowed[i] = random.nextInt(3) != 0;
        }
        return new Case(shape, values(random, batch * qHeads * qLen * d), values(random, batch * kvHeads * kvLen * d),
                values(random, batch * kvHeads * kvLen * d), values(random, batch * qHeads * qLen * d), allowed);
    }

    private static double[] values(SplittableRandom random, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = random.nextDouble() * 4 - 2;
        }
        return x;
    }

    @Test
    void referenceGradientsMatchCentralFiniteDifferences() {
        qt().withExamples(200).forAll(longs().all()).checkAssert(seed -> {
            Case c = randomCase(seed);
            double[] dq = new double[c.q.length];
            double[] dk = new double[c.k.length];
            double[] dv = new double[c.v.length];
            AttentionReference.backward(c.shape, c.q, c.k, c.v, c.visibility(), c.dOut, dq, dk, dv);
            checkAgainstDifferences("dq", c, c.q, dq);
            checkAgainstDifferences("dk", c, c.k, dk);
            checkAgainstDifferences("dv", c, c.v, dv);
        });
    }

    /** Central differences with h = 1e-5 have truncation error ~h^2 |f'''| ~ 1e-9 here; 1e-6 leaves a wide margin. */
    private static void checkAgainstDifferences(String name, Case c, double[] x, double[] gradient) {
        ToDoubleFunction<Case> loss = Case::loss;
        double h = 1e-5;
        for (int i = 0; i < x.length; i++) {
            double saved = x[i];
            x[i] = saved + h;
            double up = loss.applyAsDouble(c);
            x[i] = saved - h;
            double down = loss.applyAsDouble(c);
            x[i] = saved;
            double numeric = (up - down) / (2 * h);
            int index = i;
            assertEquals(numeric, gradient[i], 1e-6 * (1 + Math.abs(numeric)),
                    () -> name + "[" + index + "] for " + c.shape);
        }
    }

    @Test
    void aZeroQueryAveragesTheVisibleValues() {
        // All scores equal: softmax is uniform over the visible keys, so out is their mean and lse = log(count).
        AttentionShape shape = new AttentionShape(1, 1, 1, 3, 4, 2, 1f, AttentionMask.CAUSAL);
        double[] q = new double[3 * 2];
        double[] k = values(new SplittableRandom(1), 4 * 2);
        double[] v = {1, 10, 2, 20, 3, 30, 4, 40};
        double[] out = new double[6];
        double[] lse = new double[3];
        AttentionReference.forward(shape, q, k, v, AttentionReference.visibility(shape, null, 0, 0, 0), out, lse);
        // Causal offset kvLen - qLen = 1: query 0 sees keys 0..1, query 1 sees 0..2, query 2 sees all four.
        double[] expected = {1.5, 15, 2, 20, 2.5, 25};
        for (int i = 0; i < 6; i++) {
            assertEquals(expected[i], out[i], 1e-12);
        }
        assertEquals(Math.log(2), lse[0], 1e-12);
        assertEquals(Math.log(4), lse[2], 1e-12);
    }

    @Test
    void aRowThatSeesNothingHasZeroOutputAndMinusInfinityLse() {
        AttentionShape shape = new AttentionShape(1, 1, 1, 3, 2, 1, 1f, AttentionMask.CAUSAL);
        double[] out = new double[3];
        double[] lse = new double[3];
        AttentionReference.forward(shape, new double[] {1, 2, 3}, new double[] {1, 1}, new double[] {5, 7},
                AttentionReference.visibility(shape, null, 0, 0, 0), out, lse);
        // qLen 3 over kvLen 2: query 0 would need key -1, so it sees nothing.
        assertEquals(0.0, out[0]);
        assertEquals(Double.NEGATIVE_INFINITY, lse[0]);
        assertEquals(5.0, out[1], 1e-12);
        assertTrue(out[2] > 5 && out[2] < 7);
    }
}
