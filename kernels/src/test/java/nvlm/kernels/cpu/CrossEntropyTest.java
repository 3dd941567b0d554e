package nvlm.kernels.cpu;

import static nvlm.kernels.cpu.KernelFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import nvlm.kernels.cpu.KernelFixtures.Buf;
import org.junit.jupiter.api.Test;

class CrossEntropyTest {
    private static final long IGNORE = -100; // docs/model.md §8

    @Test
    void forwardAndBackwardMatchTheDoubleReference() {
        qt().withExamples(150).forAll(KernelFixtures.sizes(30_000), KernelFixtures.seeds()).checkAssert((vocab, seed) -> {
            Random r = new Random(seed);
            int rows = vocab > 2000 ? 1 + r.nextInt(8) : 1 + r.nextInt(60);
            float[] logits = KernelFixtures.gaussian(r, rows * vocab, new double[] {1, 10, 100}[r.nextInt(3)]);
            long[] targets = new long[rows];
            for (int i = 0; i < rows; i++) {
                targets[i] = r.nextInt(5) == 0 ? IGNORE : r.nextInt(vocab);
            }
            Buf l = KernelFixtures.buffer(r, logits);
            MemorySegment t = KernelFixtures.longs(r, targets);
            Buf lse = KernelFixtures.buffer(r, KernelFixtures.gaussian(r, rows, 1));
            CrossEntropy.Result result = CrossEntropy.forward(l.seg(), l.off(), rows, vocab, t, 0, IGNORE, lse.seg(), lse.off());
            double[][] want = ReferenceKernels.crossEntropy(KernelFixtures.widen(logits), rows, vocab, targets, IGNORE);
            double sum = 0;
            double magnitude = 0;
            long count = 0;
            for (int i = 0; i < rows; i++) {
                if (targets[i] != IGNORE) {
                    sum += want[0][i];
                    magnitude += Math.abs(want[1][i]) + Math.abs(logits[i * vocab + (int) targets[i]]) + 1;
                    count++;
                }
            }
            assertEquals(count, result.count());
            // lse = max + log(sum): the double sum is exact to ~1e-16; f32 exp costs ~1e-7 relative.
            assertClose("loss sum", sum, result.lossSum(), 2e-7 * magnitude, 0);
            assertClose("lse", want[1], lse.toArray(), 2e-7, 2e-7);

            float scale = (float) (r.nextGaussian() / Math.max(1, count));
            Buf g = KernelFixtures.buffer(r, KernelFixtures.gaussian(r, rows * vocab, 1)); // overwritten
            CrossEntropy.backward(l.seg(), l.off(), rows, vocab, t, 0, IGNORE, lse.seg(), lse.off(), scale, g.seg(), g.off());
            double[] gWant = ReferenceKernels.crossEntropyBackward(KernelFixtures.widen(logits), rows, vocab, targets, IGNORE, scale);
            float[] got = g.toArray();
            for (int row = 0; row < rows; row++) {
                // p = exp(x - lse) with lse rounded to f32: relative error ~ |lse| * 2^-24 on every probability.
                double tol = Math.abs(scale) * (2e-7 + 1.2e-7 * Math.abs(want[1][row]));
                double[] e = java.util.Arrays.copyOfRange(gWant, row * vocab, (row + 1) * vocab);
                float[] a = java.util.Arrays.copyOfRange(got, row * vocab, (row + 1) * vocab);
                assertClose("gLogits row " + row + (targets[row] == IGNORE ? " (ignored)" : ""), e, a,
                        targets[row] == IGNORE ? 0 : tol, 0);
            }
        });
    }

    @Test
    void referenceGradientMatchesFiniteDifferences() {
        qt().withExamples(40).forAll(KernelFixtures.seeds()).checkAssert(seed -> {
            Random r = new Random(seed);
            int rows = 1 + r.nextInt(3);
            int vocab = 1 + r.nextInt(6);
            double[] x = new double[rows * vocab];
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextGaussian() * 3;
            }
            long[] targets = new long[rows];
            for (int i = 0; i < rows; i++) {
                targets[i] = r.nextInt(4) == 0 ? IGNORE : r.nextInt(vocab);
            }
            double scale = 0.5;
            double[] g = ReferenceKernels.crossEntropyBackward(x, rows, vocab, targets, IGNORE, scale);
            for (int k = 0; k < x.length; k++) {
                double h = 1e-6;
                double[] xp = x.clone();
                double[] xm = x.clone();
                xp[k] += h;
                xm[k] -= h;
                double fd = scale * (loss(xp, rows, vocab, targets) - loss(xm, rows, vocab, targets)) / (2 * h);
                assertClose("dLoss/dlogits[" + k + "]", fd, g[k], 1e-7, 1e-6);
            }
        });
    }

    private static double loss(double[] x, int rows, int vocab, long[] targets) {
        double[] perRow = ReferenceKernels.crossEntropy(x, rows, vocab, targets, IGNORE)[0];
        double s = 0;
        for (int i = 0; i < rows; i++) {
            if (targets[i] != IGNORE) {
                s += perRow[i];
            }
        }
        return s;
    }

    @Test
    void hugeLogitsStayFinite() {
        float[] logits = {1e30f, -1e30f, 3e38f, 0f, 88f, 89f, 100f, -1e4f};
        long[] targets = {1, 0};
        float[] lse = new float[2];
        var result = CrossEntropy.forward(MemorySegment.ofArray(logits), 0, 2, 4, MemorySegment.ofArray(targets), 0, IGNORE,
                MemorySegment.ofArray(lse), 0);
        // Row 0: lse = 3e38 (the max dominates), loss = 3e38 + 1e30; row 1: lse = log(e^88 + e^89 + e^100 + ...).
        double row1 = 100 + Math.log(Math.exp(-12) + Math.exp(-11) + 1);
        assertClose("loss", (3e38 + 1e30) + (row1 - 88), result.lossSum(), 1e31, 1e-6);
        assertTrue(Float.isFinite(lse[0]) && Float.isFinite(lse[1]));
    }

    @Test
    void outOfRangeTargetsNameTheirRow() {
        MemorySegment logits = MemorySegment.ofArray(new float[6]);
        MemorySegment lse = MemorySegment.ofArray(new float[2]);
        var e = assertThrows(IllegalArgumentException.class, () -> CrossEntropy.forward(logits, 0, 2, 3,
                MemorySegment.ofArray(new long[] {0, 3}), 0, IGNORE, lse, 0));
        assertTrue(e.getMessage().contains("targets[1] = 3"), e.getMessage());
        // Every row ignored: zero count, NaN mean as in PyTorch.
        var result = CrossEntropy.forward(logits, 0, 2, 3, MemorySegment.ofArray(new long[] {IGNORE, IGNORE}), 0, IGNORE, lse, 0);
        assertEquals(0, result.count());
        assertTrue(Double.isNaN(result.mean()));
    }
}
