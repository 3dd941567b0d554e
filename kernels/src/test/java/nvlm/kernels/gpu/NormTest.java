package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Fixtures.assertClose;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import nvlm.kernels.translator.F32Buffer;
import org.junit.jupiter.api.Test;

/** LayerNorm and RMSNorm, forward and every gradient, against double references. */
class NormTest {
    // float32 row statistics over up to ~500 columns; gradients sum over rows and columns.
    private static final double ATOL = 2e-5;
    private static final double RTOL = 1e-4;

    @Test
    void layerNormForwardAndBackwardMatchDoubleReference() {
        qt().withExamples(8).forAll(integers().between(1, 70), integers().between(1, 500), longs().all())
                .checkAssert((rows, cols, seed) -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    float eps = 1e-5f;
                    boolean withBias = random.nextBoolean();
                    float[] x = Fixtures.gaussian(random, rows * cols, 2);
                    for (int i = 0; i < x.length; i++) {
                        x[i] += 3f;  // an offset mean: the variance must not cancel
                    }
                    float[] w = Fixtures.gaussian(random, cols, 1);
                    float[] bias = Fixtures.gaussian(random, cols, 1);
                    float[] dy = Fixtures.gaussian(random, rows * cols, 1);
                    double[] y = new double[rows * cols];
                    double[] dx = new double[rows * cols];
                    double[] dw = new double[cols];
                    double[] db = new double[cols];
                    double[] means = new double[rows];
                    double[] rstds = new double[rows];
                    for (int r = 0; r < rows; r++) {
                        double mean = 0;
                        for (int c = 0; c < cols; c++) {
                            mean += x[r * cols + c];
                        }
                        mean /= cols;
                        double variance = 0;
                        for (int c = 0; c < cols; c++) {
                            variance += Math.pow(x[r * cols + c] - mean, 2);
                        }
                        variance /= cols;
                        double rstd = 1 / Math.sqrt(variance + eps);
                        means[r] = mean;
                        rstds[r] = rstd;
                        double meanG = 0;
                        double meanGx = 0;
                        for (int c = 0; c < cols; c++) {
                            int i = r * cols + c;
                            double xhat = (x[i] - mean) * rstd;
                            y[i] = xhat * w[c] + (withBias ? bias[c] : 0);
                            double g = dy[i] * w[c];
                            meanG += g / cols;
                            meanGx += g * xhat / cols;
                            dw[c] += dy[i] * xhat;
                            db[c] += dy[i];
                        }
                        for (int c = 0; c < cols; c++) {
                            int i = r * cols + c;
                            double xhat = (x[i] - mean) * rstd;
                            dx[i] = rstd * (dy[i] * w[c] - meanG - xhat * meanGx);
                        }
                    }
                    F32Buffer out = Fixtures.zeros(rows * cols);
                    F32Buffer mean = Fixtures.zeros(rows);
                    F32Buffer rstd = Fixtures.zeros(rows);
                    LayerNorm.forward(Fixtures.buffer(x), Fixtures.buffer(w), withBias ? Fixtures.buffer(bias) : null, out,
                            mean, rstd, rows, cols, eps).runOnCpu();
                    String shape = rows + "x" + cols + (withBias ? " with bias" : "");
                    assertClose("layer norm y " + shape, y, out, ATOL, RTOL);
                    assertClose("layer norm mean " + shape, means, mean, ATOL, RTOL);
                    assertClose("layer norm rstd " + shape, rstds, rstd, ATOL, RTOL);
                    F32Buffer dxOut = Fixtures.zeros(rows * cols);
                    LayerNorm.backward(Fixtures.buffer(x), Fixtures.buffer(w), mean, rstd, Fixtures.buffer(dy), dxOut, rows, cols)
                            .runOnCpu();
                    assertClose("layer norm dx " + shape, dx, dxOut, 1e-4, RTOL);
                    int chunks = Math.toIntExact(Reduce.chunks(rows));
                    F32Buffer partialW = Fixtures.zeros((long) chunks * cols);
                    F32Buffer partialB = Fixtures.zeros((long) chunks * cols);
                    F32Buffer dwOut = Fixtures.zeros(cols);
                    F32Buffer dbOut = Fixtures.zeros(cols);
                    LayerNorm.weightGradPartial(Fixtures.buffer(x), mean, rstd, Fixtures.buffer(dy), partialW, partialB, rows, cols)
                            .runOnCpu();
                    Reduce.columnSumFinal(partialW, dwOut, chunks, cols, false).runOnCpu();
                    Reduce.columnSumFinal(partialB, dbOut, chunks, cols, false).runOnCpu();
                    assertClose("layer norm dw " + shape, dw, dwOut, 1e-4, RTOL);
                    assertClose("layer norm db " + shape, db, dbOut, 1e-4, RTOL);
                });
    }

    @Test
    void rmsNormForwardAndBackwardMatchDoubleReference() {
        qt().withExamples(8).forAll(integers().between(1, 70), integers().between(1, 500), longs().all())
                .checkAssert((rows, cols, seed) -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    float eps = 1e-6f;
                    float[] x = Fixtures.gaussian(random, rows * cols, 2);
                    float[] w = Fixtures.gaussian(random, cols, 1);
                    float[] dy = Fixtures.gaussian(random, rows * cols, 1);
                    double[] y = new double[rows * cols];
                    double[] dx = new double[rows * cols];
                    double[] dw = new double[cols];
                    double[] rstds = new double[rows];
                    for (int r = 0; r < rows; r++) {
                        double squares = 0;
                        for (int c = 0; c < cols; c++) {
                            squares += (double) x[r * cols + c] * x[r * cols + c];
                        }
                        double rstd = 1 / Math.sqrt(squares / cols + eps);
                        rstds[r] = rstd;
                        double meanGx = 0;
                        for (int c = 0; c < cols; c++) {
                            int i = r * cols + c;
                            y[i] = x[i] * rstd * w[c];
                            meanGx += dy[i] * w[c] * x[i] * rstd / cols;
                            dw[c] += dy[i] * x[i] * rstd;
                        }
                        for (int c = 0; c < cols; c++) {
                            int i = r * cols + c;
                            dx[i] = rstd * (dy[i] * w[c] - x[i] * rstd * meanGx);
                        }
                    }
                    F32Buffer out = Fixtures.zeros(rows * cols);
                    F32Buffer rstd = Fixtures.zeros(rows);
                    RmsNorm.forward(Fixtures.buffer(x), Fixtures.buffer(w), out, rstd, rows, cols, eps).runOnCpu();
                    String shape = rows + "x" + cols;
                    assertClose("rms norm y " + shape, y, out, ATOL, RTOL);
                    assertClose("rms norm rstd " + shape, rstds, rstd, ATOL, RTOL);
                    F32Buffer dxOut = Fixtures.zeros(rows * cols);
                    RmsNorm.backward(Fixtures.buffer(x), Fixtures.buffer(w), rstd, Fixtures.buffer(dy), dxOut, rows, cols).runOnCpu();
                    assertClose("rms norm dx " + shape, dx, dxOut, 1e-4, RTOL);
                    int chunks = Math.toIntExact(Reduce.chunks(rows));
                    F32Buffer partialW = Fixtures.zeros((long) chunks * cols);
                    F32Buffer dwOut = Fixtures.zeros(cols);
                    RmsNorm.weightGradPartial(Fixtures.buffer(x), rstd, Fixtures.buffer(dy), partialW, rows, cols).runOnCpu();
                    Reduce.columnSumFinal(partialW, dwOut, chunks, cols, false).runOnCpu();
                    assertClose("rms norm dw " + shape, dw, dwOut, 1e-4, RTOL);
                });
    }
}
