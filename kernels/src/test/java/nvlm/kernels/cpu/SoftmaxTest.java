package nvlm.kernels.cpu;

import static nvlm.kernels.cpu.KernelFixtures.assertClose;
import static org.quicktheories.QuickTheory.qt;

import java.util.Random;
import nvlm.kernels.cpu.KernelFixtures.Buf;
import org.junit.jupiter.api.Test;

class SoftmaxTest {
    private static final double[] SCALES = {0.1, 1, 10, 100, 1000};

    private record Case(int rows, int cols, float[] x, Buf xBuf) {
    }

    private static Case randomCase(Random r, int cols) {
        int rows = cols > 2000 ? 1 + r.nextInt(8) : 1 + r.nextInt(r.nextBoolean() ? 5 : 60);
        float[] x = KernelFixtures.gaussian(r, rows * cols, SCALES[r.nextInt(SCALES.length)]);
        if (r.nextInt(4) == 0) {
            for (int i = 0; i < x.length; i++) {
                x[i] += 5000; // a large common offset: only max subtraction keeps exp finite
            }
        }
        return new Case(rows, cols, x, KernelFixtures.buffer(r, x));
    }

    @Test
    void softmaxMatchesTheDoubleReference() {
        qt().withExamples(150).forAll(KernelFixtures.sizes(20_000), KernelFixtures.seeds()).checkAssert((cols, seed) -> {
            Random r = new Random(seed);
            Case c = randomCase(r, cols);
            boolean inPlace = r.nextInt(4) == 0;
            Buf y = inPlace ? c.xBuf() : KernelFixtures.zeros(r, c.rows() * cols);
            Softmax.softmax(c.xBuf().seg(), c.xBuf().off(), y.seg(), y.off(), c.rows(), cols);
            double[] want = ReferenceKernels.softmax(KernelFixtures.widen(c.x()), c.rows(), cols);
            float[] got = y.toArray();
            for (int k = 0; k < want.length; k++) {
                // exp within 1 ulp and sums to ~1e-7 give a few ulp; x - max rounds in f32 (when x and
                // max are in different binades), which costs |x - max| = -ln p ulps relative; 1e-38
                // absorbs subnormal probabilities.
                double rtol = 1e-6 + 1.2e-7 * Math.abs(Math.log(Math.max(want[k], 1e-45)));
                assertClose("softmax " + c.rows() + "x" + cols + " at " + k, want[k], got[k], 1e-38, rtol);
            }
        });
    }

    @Test
    void logSoftmaxMatchesTheDoubleReference() {
        qt().withExamples(150).forAll(KernelFixtures.sizes(20_000), KernelFixtures.seeds()).checkAssert((cols, seed) -> {
            Random r = new Random(seed);
            Case c = randomCase(r, cols);
            Buf y = r.nextInt(4) == 0 ? c.xBuf() : KernelFixtures.zeros(r, c.rows() * cols);
            Softmax.logSoftmax(c.xBuf().seg(), c.xBuf().off(), y.seg(), y.off(), c.rows(), cols);
            double[] want = ReferenceKernels.logSoftmax(KernelFixtures.widen(c.x()), c.rows(), cols);
            float[] got = y.toArray();
            for (int row = 0; row < c.rows(); row++) {
                double scale = 1;
                for (int i = 0; i < cols; i++) {
                    scale = Math.max(scale, Math.abs(c.x()[row * cols + i]));
                }
                // y = x - lse rounds at the magnitude of x and lse.
                for (int i = 0; i < cols; i++) {
                    int k = row * cols + i;
                    assertClose("logSoftmax " + c.rows() + "x" + cols + " at " + k, want[k], got[k], 3e-7 * (scale + Math.abs(want[k])), 0);
                }
            }
        });
    }

    @Test
    void backwardsMatchTheDoubleReference() {
        qt().withExamples(150).forAll(KernelFixtures.sizes(20_000), KernelFixtures.seeds()).checkAssert((cols, seed) -> {
            Random r = new Random(seed);
            Case c = randomCase(r, cols);
            int n = c.rows() * cols;
            float[] gys = KernelFixtures.gaussian(r, n, 1);
            // softmax backward from the f32 softmax output.
            Buf y = KernelFixtures.zeros(r, n);
            Softmax.softmax(c.xBuf().seg(), c.xBuf().off(), y.seg(), y.off(), c.rows(), cols);
            Buf gy = KernelFixtures.buffer(r, gys);
            boolean inPlace = r.nextInt(4) == 0;
            Buf gx = inPlace ? gy.copy() : KernelFixtures.zeros(r, n);
            Buf gySource = inPlace ? gx : gy;
            Softmax.softmaxBackward(y.seg(), y.off(), gySource.seg(), gySource.off(), gx.seg(), gx.off(), c.rows(), cols);
            double[] ys = y.toDoubles();
            double[] want = ReferenceKernels.softmaxBackward(ys, KernelFixtures.widen(gys), c.rows(), cols);
            float[] got = gx.toArray();
            for (int row = 0; row < c.rows(); row++) {
                // gx = y (gy - dot): errors scale with max|y| (|gy| + |dot|).
                double dot = 0;
                double maxY = 0;
                double maxG = 0;
                for (int i = 0; i < cols; i++) {
                    dot += ys[row * cols + i] * gys[row * cols + i];
                    maxY = Math.max(maxY, ys[row * cols + i]);
                    maxG = Math.max(maxG, Math.abs(gys[row * cols + i]));
                }
                for (int i = 0; i < cols; i++) {
                    int k = row * cols + i;
                    assertClose("softmaxBackward at " + k, want[k], got[k], 1e-6 * maxY * (maxG + Math.abs(dot)), 0);
                }
            }

            Buf ly = KernelFixtures.zeros(r, n);
            Softmax.logSoftmax(c.xBuf().seg(), c.xBuf().off(), ly.seg(), ly.off(), c.rows(), cols);
            Buf lgx = KernelFixtures.zeros(r, n);
            Softmax.logSoftmaxBackward(ly.seg(), ly.off(), gy.seg(), gy.off(), lgx.seg(), lgx.off(), c.rows(), cols);
            double[] lwant = ReferenceKernels.logSoftmaxBackward(ly.toDoubles(), KernelFixtures.widen(gys), c.rows(), cols);
            float[] lgot = lgx.toArray();
            for (int row = 0; row < c.rows(); row++) {
                double sum = 0;
                double maxG = 0;
                for (int i = 0; i < cols; i++) {
                    sum += gys[row * cols + i];
                    maxG = Math.max(maxG, Math.abs(gys[row * cols + i]));
                }
                for (int i = 0; i < cols; i++) {
                    int k = row * cols + i;
                    assertClose("logSoftmaxBackward at " + k, lwant[k], lgot[k], 1e-6 * (maxG + Math.abs(sum)), 0);
                }
            }
        });
    }

    @Test
    void referenceBackwardsMatchFiniteDifferences() {
        qt().withExamples(40).forAll(KernelFixtures.seeds()).checkAssert(seed -> {
            Random r = new Random(seed);
            int rows = 1 + r.nextInt(3);
            int cols = 1 + r.nextInt(7);
            double[] x = new double[rows * cols];
            double[] g = new double[rows * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextGaussian() * 2;
                g[i] = r.nextGaussian();
            }
            for (boolean log : new boolean[] {false, true}) {
                double[] y = log ? ReferenceKernels.logSoftmax(x, rows, cols) : ReferenceKernels.softmax(x, rows, cols);
                double[] analytic = log ? ReferenceKernels.logSoftmaxBackward(y, g, rows, cols)
                        : ReferenceKernels.softmaxBackward(y, g, rows, cols);
                for (int k = 0; k < x.length; k++) {
                    double h = 1e-6;
                    double[] plus = x.clone();
                    double[] minus = x.clone();
                    plus[k] += h;
                    minus[k] -= h;
                    double lp = dot(g, log ? ReferenceKernels.logSoftmax(plus, rows, cols) : ReferenceKernels.softmax(plus, rows, cols));
                    double lm = dot(g, log ? ReferenceKernels.logSoftmax(minus, rows, cols) : ReferenceKernels.softmax(minus, rows, cols));
                    assertClose((log ? "logSoftmax" : "softmax") + " d/dx[" + k + "]", (lp - lm) / (2 * h), analytic[k], 1e-7, 1e-6);
                }
            }
        });
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
