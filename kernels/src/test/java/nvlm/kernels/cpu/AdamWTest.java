package nvlm.kernels.cpu;

import static nvlm.kernels.cpu.KernelFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import nvlm.kernels.cpu.KernelFixtures.Buf;
import org.junit.jupiter.api.Test;

class AdamWTest {

    private record Hyper(double lr, double beta1, double beta2, double eps, double weightDecay) {
        static Hyper random(Random r) {
            double[] lrs = {1e-5, 3e-4, 1e-3, 0.1};
            // beta1 = 0.3 makes the lerp weight 0.7 >= 0.5: ATen's other lerp branch.
            double[] beta1s = {0.9, 0.95, 0.0, 0.3};
            double[] beta2s = {0.999, 0.95, 0.99};
            double[] epss = {1e-8, 1e-6};
            double[] wds = {0, 0.01, 0.1};
            return new Hyper(lrs[r.nextInt(lrs.length)], beta1s[r.nextInt(beta1s.length)], beta2s[r.nextInt(beta2s.length)],
                    epss[r.nextInt(epss.length)], wds[r.nextInt(wds.length)]);
        }
    }

    @Test
    void stepMatchesThePyTorchOrderReferenceBitForBit() {
        qt().withExamples(150).forAll(KernelFixtures.sizes(200_000), KernelFixtures.seeds()).checkAssert((n, seed) -> {
            Random r = new Random(seed);
            Hyper h = Hyper.random(r);
            Buf p = KernelFixtures.buffer(r, KernelFixtures.gaussian(r, n, 1));
            Buf m = KernelFixtures.zeros(r, n);
            Buf v = KernelFixtures.zeros(r, n);
            Buf pRef = p.copy();
            Buf mRef = m.copy();
            Buf vRef = v.copy();
            int steps = 1 + r.nextInt(3);
            int step0 = r.nextBoolean() ? 1 : 1 + r.nextInt(5000);
            for (int s = 0; s < steps; s++) {
                Buf g = KernelFixtures.buffer(r, KernelFixtures.gaussian(r, n, r.nextBoolean() ? 1 : 1e-3));
                AdamW.step(p.seg(), p.off(), g.seg(), g.off(), m.seg(), m.off(), v.seg(), v.off(), n,
                        h.lr(), h.beta1(), h.beta2(), h.eps(), h.weightDecay(), step0 + s);
                ReferenceKernels.adamWStep(pRef.seg(), pRef.off(), g.seg(), g.off(), mRef.seg(), mRef.off(), vRef.seg(),
                        vRef.off(), n, h.lr(), h.beta1(), h.beta2(), h.eps(), h.weightDecay(), step0 + s);
            }
            KernelFixtures.assertBitsEqual("param " + h, pRef.toArray(), p.toArray());
            KernelFixtures.assertBitsEqual("exp_avg " + h, mRef.toArray(), m.toArray());
            KernelFixtures.assertBitsEqual("exp_avg_sq " + h, vRef.toArray(), v.toArray());
        });
    }

    /** The f32 PyTorch-order reference against the textbook update in double, from the same state. */
    @Test
    void referenceIsTheTextbookAdamWUpdate() {
        qt().withExamples(100).forAll(KernelFixtures.seeds()).checkAssert(seed -> {
            Random r = new Random(seed);
            Hyper h = Hyper.random(r);
            int n = 1 + r.nextInt(50);
            int step = 1 + r.nextInt(100);
            float[] p = KernelFixtures.gaussian(r, n, 1);
            float[] g = KernelFixtures.gaussian(r, n, 1);
            float[] m = KernelFixtures.gaussian(r, n, 0.1);
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) Math.abs(r.nextGaussian() * 0.01);
            }
            float[] p2 = p.clone();
            float[] m2 = m.clone();
            float[] v2 = v.clone();
            ReferenceKernels.adamWStep(MemorySegment.ofArray(p2), 0, MemorySegment.ofArray(g), 0, MemorySegment.ofArray(m2), 0,
                    MemorySegment.ofArray(v2), 0, n, h.lr(), h.beta1(), h.beta2(), h.eps(), h.weightDecay(), step);
            for (int i = 0; i < n; i++) {
                double mi = h.beta1() * m[i] + (1 - h.beta1()) * g[i];
                double vi = h.beta2() * v[i] + (1 - h.beta2()) * (double) g[i] * g[i];
                double mHat = mi / (1 - Math.pow(h.beta1(), step));
                double vHat = vi / (1 - Math.pow(h.beta2(), step));
                double pi = p[i] * (1 - h.lr() * h.weightDecay()) - h.lr() * mHat / (Math.sqrt(vHat) + h.eps());
                assertClose("m " + h, mi, m2[i], 1e-7 * (Math.abs(m[i]) + Math.abs(g[i])), 1e-6);
                assertClose("v " + h, vi, v2[i], 1e-7 * (v[i] + (double) g[i] * g[i]), 1e-6);
                // The f32 update is accurate relative to the terms it is made of: |p|, the update, and the
                // update m would give without cancellation between beta1 * m and (1 - beta1) * g (the f32
                // weight 1 - beta1 differs from the double one by ~1e-8 relative, as in PyTorch).
                double denom = Math.sqrt(vHat) + h.eps();
                double update = h.lr() * Math.abs(mHat) / denom;
                double termUpdate = h.lr() * (Math.abs(m[i]) + Math.abs(g[i])) / (1 - Math.pow(h.beta1(), step)) / denom;
                assertClose("p " + h + " step " + step, pi, p2[i], 1e-6 * (Math.abs(p[i]) + update + termUpdate), 0);
            }
        });
    }

    @Test
    void sumOfSquaresMatchesTheDoubleSum() {
        qt().withExamples(100).forAll(KernelFixtures.sizes(400_000), KernelFixtures.seeds()).checkAssert((n, seed) -> {
            Random r = new Random(seed);
            Buf x = KernelFixtures.buffer(r, KernelFixtures.gaussian(r, n, 3));
            double got = AdamW.sumOfSquares(x.seg(), x.off(), n);
            double want = ReferenceKernels.sumOfSquares(x.seg(), x.off(), n);
            // Squares are exact in double; only the order of the double additions differs.
            assertClose("sumOfSquares n=" + n, want, got, 0, 1e-13);
        });
    }

    @Test
    void invalidHyperparametersAreRejectedByName() {
        MemorySegment a = MemorySegment.ofArray(new float[4]);
        var e = assertThrows(IllegalArgumentException.class, () -> AdamW.step(a, 0, a, 0, a, 0, a, 0, 4, 1e-3, 0.9, 0.999, 1e-8, 0, 0));
        assertTrue(e.getMessage().contains("step"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AdamW.step(a, 0, a, 0, a, 0, a, 0, 4, 1e-3, 1.0, 0.999, 1e-8, 0, 1));
        assertTrue(e.getMessage().contains("beta1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AdamW.step(a, 0, a, 0, a, 0, a, 0, 5, 1e-3, 0.9, 0.999, 1e-8, 0, 1));
        assertTrue(e.getMessage().startsWith("param:"), e.getMessage());
    }
}
