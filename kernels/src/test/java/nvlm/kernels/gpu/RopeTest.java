package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import nvlm.kernels.translator.F32Buffer;
import org.junit.jupiter.api.Test;

class RopeTest {
    /**
     * Rotate-half RoPE in double with the angle formed in double (the CPU backend's table): query
     * x of [batch, seq, heads, dim] at position startPos + t.
     */
    static double[] reference(float[] x, int batch, int seq, int heads, int dim, int startPos, double theta) {
        int half = dim / 2;
        double[] out = new double[x.length];
        for (int row = 0; row < batch * seq * heads; row++) {
            int pos = startPos + (row / heads) % seq;
            for (int i = 0; i < half; i++) {
                double angle = pos * Math.pow(theta, -2.0 * i / dim);
                // cos and sin are rounded to float once, as the table stores them.
                double c = (float) Math.cos(angle);
                double s = (float) Math.sin(angle);
                double x1 = x[row * dim + i];
                double x2 = x[row * dim + i + half];
                out[row * dim + i] = x1 * c - x2 * s;
                out[row * dim + i + half] = x2 * c + x1 * s;
            }
        }
        return out;
    }

    @Test
    void rotationMatchesTheDoubleAngleReferenceAtLargePositions() {
        qt().withExamples(40).forAll(integers().between(1, 3), integers().between(1, 20), integers().between(1, 16),
                longs().all()).checkAssert((batch, seq, halfDim, seed) -> {
            SplittableRandom random = new SplittableRandom(seed);
            int heads = random.nextInt(1, 5);
            int dim = 2 * halfDim;
            int startPos = random.nextInt(0, 5000);
            double theta = random.nextBoolean() ? 10_000 : 1_000_000;
            int positions = startPos + seq + random.nextInt(0, 3);
            float[] x = Fixtures.gaussian(random, batch * seq * heads * dim, 1);
            F32Buffer y = Fixtures.zeros(x.length);
            F32Buffer table = F32Buffer.wrap(Rope.table(dim, theta, positions));
            Rope.rotate(Fixtures.buffer(x), y, table, batch, seq, heads, dim, startPos, positions, false).runOnCpu();
            // Float products of float cos/sin: a few ulp of O(1) values.
            assertClose("rope " + batch + "x" + seq + "x" + heads + "x" + dim + " at " + startPos,
                    reference(x, batch, seq, heads, dim, startPos, theta), y, 1e-6, 1e-6);
        });
    }

    @Test
    void inverseRotationIsTheAdjointAndWorksInPlace() {
        // <rope(x), g> == <x, rope^-1(g)> for a rotation.
        qt().withExamples(30).forAll(integers().between(1, 30), integers().between(1, 16), longs().all())
                .checkAssert((seq, halfDim, seed) -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    int heads = 3;
                    int dim = 2 * halfDim;
                    int n = seq * heads * dim;
                    F32Buffer table = F32Buffer.wrap(Rope.table(dim, 10_000, 7 + seq));
                    float[] x = Fixtures.gaussian(random, n, 1);
                    float[] g = Fixtures.gaussian(random, n, 1);
                    F32Buffer rotated = Fixtures.buffer(x);
                    Rope.rotate(rotated, rotated, table, 1, seq, heads, dim, 7, 7 + seq, false).runOnCpu();
                    F32Buffer back = Fixtures.buffer(g);
                    Rope.rotate(back, back, table, 1, seq, heads, dim, 7, 7 + seq, true).runOnCpu();
                    double left = 0;
                    double right = 0;
                    for (int i = 0; i < n; i++) {
                        left += (double) rotated.get(i) * g[i];
                        right += (double) x[i] * back.get(i);
                    }
                    assertEquals(left, right, 1e-4 * Math.sqrt(n));
                });
    }

    @Test
    void positionsPastTheTableAreRefused() {
        F32Buffer table = F32Buffer.wrap(Rope.table(4, 10_000, 8));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> Rope.rotate(Fixtures.zeros(12), Fixtures.zeros(12), table, 1, 3, 1, 4, 6, 8, false));
        assertEquals("Rope.rotate: positions 6..9 outside a table of 8", error.getMessage());
    }
}
