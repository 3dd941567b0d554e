package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Fixtures.assertClose;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import nvlm.kernels.translator.F32Buffer;
import org.junit.jupiter.api.Test;

class AdamWTest {
    @Test
    void severalStepsFollowPyTorchAdamW() {
        qt().withExamples(20).forAll(integers().between(1, 3000), longs().all()).checkAssert((n, seed) -> {
            SplittableRandom random = new SplittableRandom(seed);
            float lr = (float) random.nextDouble(1e-4, 1e-2);
            float beta1 = 0.9f;
            float beta2 = 0.95f;
            float eps = 1e-8f;
            float weightDecay = random.nextBoolean() ? 0.1f : 0f;
            float gradScale = random.nextBoolean() ? 1f : 0.5f;
            float[] p0 = Fixtures.gaussian(random, n, 1);
            double[] p = new double[n];
            double[] m = new double[n];
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                p[i] = p0[i];
            }
            F32Buffer param = Fixtures.buffer(p0);
            F32Buffer mBuffer = Fixtures.zeros(n);
            F32Buffer vBuffer = Fixtures.zeros(n);
            for (int step = 1; step <= 4; step++) {
                float[] grad = Fixtures.gaussian(random, n, step == 3 ? 1e-3 : 1);
                AdamW.step(param, Fixtures.buffer(grad), mBuffer, vBuffer, n, lr, beta1, beta2, eps, weightDecay, step,
                        gradScale).runOnCpu();
                double bias1 = 1 - Math.pow(beta1, step);
                double bias2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
                for (int i = 0; i < n; i++) {
                    double g = (double) grad[i] * gradScale;
                    p[i] *= 1 - (double) lr * weightDecay;
                    m[i] = beta1 * m[i] + (1 - beta1) * g;
                    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                    p[i] -= lr / bias1 * m[i] / (Math.sqrt(v[i]) / bias2Sqrt + eps);
                }
                // Each update moves p by about lr; float32 keeps ~1e-7 relative of it per step.
                assertClose("param after step " + step, p, param, 1e-6, 1e-6);
                assertClose("m after step " + step, m, mBuffer, 1e-7, 1e-5);
                assertClose("v after step " + step, v, vBuffer, 1e-9, 1e-5);
            }
        });
    }
}
