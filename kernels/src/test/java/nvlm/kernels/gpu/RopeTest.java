package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import nvlm.kernels.hat.F32Buffer;
import org.junit.jupiter.api.Test;

class RopeTest {
    /**
     * Rotate-half RoPE as Hugging Face computes it: inv_freq = 1 / theta^(2i/D) and the angle
     * position * inv_freq, each step rounded to float32 as torch does; cos, sin and the rotation in
     * double here.
     */
    static double[] reference(float[] x, long[] s, int batch, int tokens, int heads, int dim, int startPos, float theta,
                              double[] out, long[] os) {
        int half = dim / 2;
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < tokens; t++) {
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < half; i++) {
                        // torch: base ** (arange(0, dim, 2).float() / dim) in float32, then 1.0 / that in float32
                        float power = (float) Math.pow(theta, (float) (2 * i) / dim);
                        float invFreq = 1f / power;
                        float angle = (float) (startPos + t) * invFreq;
                        long xi = b * s[0] + t * s[1] + h * s[2] + i;
                        long yi = b * os[0] + t * os[1] + h * os[2] + i;
                        double x1 = x[(int) xi];
                        double x2 = x[(int) (xi + half)];
                        out[(int) yi] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
                        out[(int) (yi + half)] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
                    }
                }
            }
        }
        return out;
    }

    @Test
    void forwardMatchesTheRotateHalfReferenceOnStridedViews() {
        qt().withExamples(40).forAll(integers().between(1, 3), integers().between(1, 20), integers().between(1, 16),
                longs().all()).checkAssert((batch, tokens, halfDim, seed) -> {
            SplittableRandom random = new SplittableRandom(seed);
            int heads = random.nextInt(1, 5);
            int dim = 2 * halfDim;
            int startPos = random.nextInt(0, 5000);
            float theta = random.nextBoolean() ? 10_000f : 1_000_000f;
            // x is a view inside a wider buffer (e.g. q inside fused qkv): head stride dim, token stride 3*heads*dim.
            long[] xs = {(long) tokens * 3 * heads * dim, 3L * heads * dim, dim};
            float[] storage = Fixtures.gaussian(random, batch * tokens * 3 * heads * dim, 1);
            long[] ys = Rope.contiguousStrides(tokens, heads, dim);
            F32Buffer y = Fixtures.zeros((long) batch * tokens * heads * dim);
            Rope.forward(Fixtures.buffer(storage), xs, y, ys, batch, tokens, heads, dim, startPos, theta).runOnCpu();
            double[] expected = reference(storage, xs, batch, tokens, heads, dim, startPos, theta,
                    new double[batch * tokens * heads * dim], ys);
            // float cos/sin of angles up to ~5000 rad: the angle itself is exact (same float product), the rest ~1e-6.
            assertClose("rope " + batch + "x" + tokens + "x" + heads + "x" + dim + " at " + startPos, expected, y, 5e-6, 1e-5);
        });
    }

    @Test
    void backwardIsTheAdjointOfTheForward() {
        // <rope(x), g> == <x, rope_backward(g)> for the rotation, in place on contiguous tensors.
        qt().withExamples(30).forAll(integers().between(1, 30), integers().between(1, 16), longs().all())
                .checkAssert((tokens, halfDim, seed) -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    int heads = 3;
                    int dim = 2 * halfDim;
                    int n = tokens * heads * dim;
                    long[] strides = Rope.contiguousStrides(tokens, heads, dim);
                    float[] x = Fixtures.gaussian(random, n, 1);
                    float[] g = Fixtures.gaussian(random, n, 1);
                    F32Buffer rotated = Fixtures.buffer(x);
                    Rope.forward(rotated, strides, rotated, strides, 1, tokens, heads, dim, 7, 10_000f).runOnCpu();
                    F32Buffer back = Fixtures.buffer(g);
                    Rope.backward(back, strides, back, strides, 1, tokens, heads, dim, 7, 10_000f).runOnCpu();
                    double left = 0;
                    double right = 0;
                    for (int i = 0; i < n; i++) {
                        left += (double) rotated.get(i) * g[i];
                        right += (double) x[i] * back.get(i);
                    }
                    assertEquals(left, right, 1e-4 * Math.sqrt(n));
                });
    }
}
