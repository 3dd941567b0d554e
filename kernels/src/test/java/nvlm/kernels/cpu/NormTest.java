package nvlm.kernels.cpu;

import static nvlm.kernels.cpu.KernelFixtures.assertClose;
import static nvlm.kernels.cpu.KernelFixtures.maxAbs;
import static org.quicktheories.QuickTheory.qt;

import java.util.Random;
import nvlm.kernels.cpu.KernelFixtures.Buf;
import org.junit.jupiter.api.Test;

/** LayerNorm and RmsNorm against their double references, and the references against finite differences. */
class NormTest {

    private record Shape(int rows, int cols) {
    }

    private static Shape shape(Random r, int cols) {
        int rows = cols > 1000 ? 1 + r.nextInt(40) : 1 + r.nextInt(r.nextBoolean() ? 4 : 100);
        return new Shape(rows, cols);
    }

    /** Rows with a random offset up to 10 standard deviations (the two-pass statistics must not cancel). */
    private static float[] rowsWithOffset(Random r, Shape s) {
        float[] x = KernelFixtures.gaussian(r, s.rows() * s.cols(), 1 + r.nextInt(3));
        for (int row = 0; row < s.rows(); row++) {
            float offset = (float) (r.nextGaussian() * 10);
            for (int c = 0; c < s.cols(); c++) {
                x[row * s.cols() + c] += offset;
            }
        }
        return x;
    }

    @Test
    void layerNormMatchesTheDoubleReference() {
        qt().withExamples(150).forAll(KernelFixtures.sizes(3000), KernelFixtures.seeds()).checkAssert((cols, seed) -> {
            Random r = new Random(seed);
            Shape s = shape(r, cols);
            int n = s.rows() * cols;
            float[] xs = rowsWithOffset(r, s);
            float[] ws = KernelFixtures.gaussian(r, cols, 1);
            float[] bs = r.nextBoolean() ? KernelFixtures.gaussian(r, cols, 1) : null;
            float eps = r.nextBoolean() ? 1e-5f : 1e-6f;
            Buf x = KernelFixtures.buffer(r, xs);
            Buf w = KernelFixtures.buffer(r, ws);
            Buf b = bs == null ? null : KernelFixtures.buffer(r, bs);
            boolean inPlace = r.nextInt(4) == 0;
            Buf y = inPlace ? x.copy() : KernelFixtures.zeros(r, n);
            Buf yIn = inPlace ? y : x; // y may alias x
            Buf mean = KernelFixtures.zeros(r, s.rows());
            Buf rstd = KernelFixtures.zeros(r, s.rows());
            LayerNorm.forward(yIn.seg(), yIn.off(), w.seg(), w.off(), b == null ? null : b.seg(), b == null ? 0 : b.off(),
                    y.seg(), y.off(), mean.seg(), mean.off(), rstd.seg(), rstd.off(), s.rows(), cols, eps);
            double[][] want = ReferenceKernels.layerNorm(KernelFixtures.widen(xs), KernelFixtures.widen(ws),
                    bs == null ? null : KernelFixtures.widen(bs), s.rows(), cols, eps);
            // y = xhat * w + b: a few ulp of max |y| (the kernel keeps the mean as hi + lo, so the
            // offset does not cost precision).
            assertClose("layerNorm y " + s, want[0], y.toArray(), 3e-6 * (maxAbs(want[0]) + 1), 0);
            assertClose("layerNorm mean " + s, want[1], mean.toArray(), 1e-6 * (maxAbs(want[1]) + 1), 0);
            assertClose("layerNorm rstd " + s, want[2], rstd.toArray(), 0, 2e-6);

            // Backward from the kernel's own f32 mean/rstd, into pre-filled gw/gb (accumulation).
            float[] gys = KernelFixtures.gaussian(r, n, 1);
            Buf gy = KernelFixtures.buffer(r, gys);
            Buf gx = KernelFixtures.zeros(r, n);
            float[] gw0 = KernelFixtures.gaussian(r, cols, 1);
            float[] gb0 = KernelFixtures.gaussian(r, cols, 1);
            Buf gw = KernelFixtures.buffer(r, gw0);
            Buf gb = KernelFixtures.buffer(r, gb0);
            LayerNorm.backward(x.seg(), x.off(), w.seg(), w.off(), mean.seg(), mean.off(), rstd.seg(), rstd.off(),
                    gy.seg(), gy.off(), gx.seg(), gx.off(), gw.seg(), gw.off(), gb.seg(), gb.off(), s.rows(), cols);
            double[][] g = ReferenceKernels.layerNormBackward(KernelFixtures.widen(xs), KernelFixtures.widen(ws),
                    mean.toDoubles(), rstd.toDoubles(), KernelFixtures.widen(gys), s.rows(), cols);
            double[] gwWant = g[1].clone();
            double[] gbWant = g[2].clone();
            for (int c = 0; c < cols; c++) {
                gwWant[c] += gw0[c];
                gbWant[c] += gb0[c];
            }
            assertRowsClose("layerNorm gx " + s, g[0], gx.toArray(), gradientTermScale(xs, ws, gys, mean.toArray(), rstd.toArray(), s));
            // Column sums over rows in f32 per chunk: error grows like sqrt(rows) ulps of the terms.
            double rowsScale = Math.sqrt(s.rows());
            assertClose("layerNorm gw " + s, gwWant, gw.toArray(), 1e-6 * rowsScale * (maxAbs(gwWant) + 1), 0);
            assertClose("layerNorm gb " + s, gbWant, gb.toArray(), 1e-6 * rowsScale * (maxAbs(gbWant) + 1), 0);
        });
    }

    @Test
    void rmsNormMatchesTheDoubleReference() {
        qt().withExamples(150).forAll(KernelFixtures.sizes(3000), KernelFixtures.seeds()).checkAssert((cols, seed) -> {
            Random r = new Random(seed);
            Shape s = shape(r, cols);
            int n = s.rows() * cols;
            float[] xs = KernelFixtures.gaussian(r, n, new double[] {0.01, 1, 100}[r.nextInt(3)]);
            float[] ws = KernelFixtures.gaussian(r, cols, 1);
            float eps = 1e-6f;
            Buf x = KernelFixtures.buffer(r, xs);
            Buf w = KernelFixtures.buffer(r, ws);
            boolean inPlace = r.nextInt(4) == 0;
            Buf y = inPlace ? x.copy() : KernelFixtures.zeros(r, n);
            Buf xIn = inPlace ? y : x;
            Buf rstd = KernelFixtures.zeros(r, s.rows());
            RmsNorm.forward(xIn.seg(), xIn.off(), w.seg(), w.off(), y.seg(), y.off(), rstd.seg(), rstd.off(), s.rows(), cols, eps);
            double[][] want = ReferenceKernels.rmsNorm(KernelFixtures.widen(xs), KernelFixtures.widen(ws), s.rows(), cols, eps);
            assertClose("rmsNorm y " + s, want[0], y.toArray(), 1e-6 * maxAbs(want[0]), 1e-6);
            assertClose("rmsNorm rstd " + s, want[1], rstd.toArray(), 0, 1e-6);

            float[] gys = KernelFixtures.gaussian(r, n, 1);
            Buf gy = KernelFixtures.buffer(r, gys);
            boolean gxInPlace = r.nextInt(4) == 0;
            Buf gx = gxInPlace ? gy.copy() : KernelFixtures.zeros(r, n);
            Buf gySource = gxInPlace ? gx : gy;
            float[] gw0 = KernelFixtures.gaussian(r, cols, 1);
            Buf gw = KernelFixtures.buffer(r, gw0);
            RmsNorm.backward(x.seg(), x.off(), w.seg(), w.off(), rstd.seg(), rstd.off(), gySource.seg(), gySource.off(),
                    gx.seg(), gx.off(), gw.seg(), gw.off(), s.rows(), cols);
            double[][] g = ReferenceKernels.rmsNormBackward(KernelFixtures.widen(xs), KernelFixtures.widen(ws),
                    rstd.toDoubles(), KernelFixtures.widen(gys), s.rows(), cols);
            double[] gwWant = g[1].clone();
            for (int c = 0; c < cols; c++) {
                gwWant[c] += gw0[c];
            }
            assertRowsClose("rmsNorm gx " + s, g[0], gx.toArray(), gradientTermScale(xs, ws, gys, new float[s.rows()], rstd.toArray(), s));
            assertClose("rmsNorm gw " + s, gwWant, gw.toArray(), 1e-6 * Math.sqrt(s.rows()) * (maxAbs(gwWant) + 1), 0);
        });
    }

    /**
     * Per row, the size of the terms gx is computed from: rstd * max|g| * (1 + max|xhat|), g = gy * w.
     * gx can be far smaller than its terms (one column: it is ~0), so its error is measured against them.
     */
    private static double[] gradientTermScale(float[] x, float[] w, float[] gy, float[] mean, float[] rstd, Shape s) {
        double[] scale = new double[s.rows()];
        for (int row = 0; row < s.rows(); row++) {
            double maxG = 0;
            double maxXhat = 0;
            for (int c = 0; c < s.cols(); c++) {
                int k = row * s.cols() + c;
                maxG = Math.max(maxG, Math.abs((double) gy[k] * w[c]));
                maxXhat = Math.max(maxXhat, Math.abs((x[k] - mean[row]) * (double) rstd[row]));
            }
            scale[row] = rstd[row] * maxG * (1 + maxXhat);
        }
        return scale;
    }

    private static void assertRowsClose(String what, double[] expected, float[] actual, double[] rowScale) {
        int cols = expected.length / rowScale.length;
        for (int row = 0; row < rowScale.length; row++) {
            double[] e = java.util.Arrays.copyOfRange(expected, row * cols, (row + 1) * cols);
            float[] a = java.util.Arrays.copyOfRange(actual, row * cols, (row + 1) * cols);
            assertClose(what + " row " + row, e, a, 2e-6 * rowScale[row], 0);
        }
    }

    /** loss = sum(G * y): its gradient is the backward with gy = G. */
    @Test
    void referenceBackwardsMatchFiniteDifferences() {
        qt().withExamples(30).forAll(KernelFixtures.seeds()).checkAssert(seed -> {
            Random r = new Random(seed);
            int rows = 1 + r.nextInt(3);
            int cols = 2 + r.nextInt(6);
            double[] x = gaussian(r, rows * cols);
            double[] w = gaussian(r, cols);
            double[] b = gaussian(r, cols);
            double[] G = gaussian(r, rows * cols);
            double eps = 1e-5;
            double h = 1e-6;

            double[][] ln = ReferenceKernels.layerNorm(x, w, b, rows, cols, eps);
            double[][] lg = ReferenceKernels.layerNormBackward(x, w, ln[1], ln[2], G, rows, cols);
            double[][] rn = ReferenceKernels.rmsNorm(x, w, rows, cols, eps);
            double[][] rg = ReferenceKernels.rmsNormBackward(x, w, rn[1], G, rows, cols);
            for (int k = 0; k < x.length; k++) {
                double[] xp = x.clone();
                double[] xm = x.clone();
                xp[k] += h;
                xm[k] -= h;
                double fdLn = (SoftmaxTest.dot(G, ReferenceKernels.layerNorm(xp, w, b, rows, cols, eps)[0])
                        - SoftmaxTest.dot(G, ReferenceKernels.layerNorm(xm, w, b, rows, cols, eps)[0])) / (2 * h);
                assertClose("layerNorm d/dx[" + k + "]", fdLn, lg[0][k], 1e-6, 1e-5);
                double fdRms = (SoftmaxTest.dot(G, ReferenceKernels.rmsNorm(xp, w, rows, cols, eps)[0])
                        - SoftmaxTest.dot(G, ReferenceKernels.rmsNorm(xm, w, rows, cols, eps)[0])) / (2 * h);
                assertClose("rmsNorm d/dx[" + k + "]", fdRms, rg[0][k], 1e-6, 1e-5);
            }
            for (int c = 0; c < cols; c++) {
                double[] wp = w.clone();
                double[] wm = w.clone();
                wp[c] += h;
                wm[c] -= h;
                double fdW = (SoftmaxTest.dot(G, ReferenceKernels.layerNorm(x, wp, b, rows, cols, eps)[0])
                        - SoftmaxTest.dot(G, ReferenceKernels.layerNorm(x, wm, b, rows, cols, eps)[0])) / (2 * h);
                assertClose("layerNorm d/dw[" + c + "]", fdW, lg[1][c], 1e-6, 1e-5);
                double fdRw = (SoftmaxTest.dot(G, ReferenceKernels.rmsNorm(x, wp, rows, cols, eps)[0])
                        - SoftmaxTest.dot(G, ReferenceKernels.rmsNorm(x, wm, rows, cols, eps)[0])) / (2 * h);
                assertClose("rmsNorm d/dw[" + c + "]", fdRw, rg[1][c], 1e-6, 1e-5);
                double[] bp = b.clone();
                double[] bm = b.clone();
                bp[c] += h;
                bm[c] -= h;
                double fdB = (SoftmaxTest.dot(G, ReferenceKernels.layerNorm(x, w, bp, rows, cols, eps)[0])
                        - SoftmaxTest.dot(G, ReferenceKernels.layerNorm(x, w, bm, rows, cols, eps)[0])) / (2 * h);
                assertClose("layerNorm d/db[" + c + "]", fdB, lg[2][c], 1e-6, 1e-5);
            }
        });
    }

    private static double[] gaussian(Random r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextGaussian();
        }
        return a;
    }
}
