package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Fixtures.assertClose;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import nvlm.kernels.translator.F32Buffer;
import org.junit.jupiter.api.Test;

class SoftmaxTest {
    // float32 exp and sums over at most ~600 terms against double references.
    private static final double ATOL = 2e-6;
    private static final double RTOL = 2e-5;

    @Test
    void softmaxAndLogSoftmaxForwardAndBackwardMatchDoubleReferences() {
        qt().withExamples(10).forAll(integers().between(1, 6), integers().between(1, 600), longs().all())
                .checkAssert((rows, cols, seed) -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    // Large logits: the kernel must subtract the row max.
                    float[] x = Fixtures.gaussian(random, rows * cols, 30);
                    float[] dy = Fixtures.gaussian(random, rows * cols, 1);
                    double[] p = new double[rows * cols];
                    double[] logP = new double[rows * cols];
                    double[] dxSoftmax = new double[rows * cols];
                    double[] dxLog = new double[rows * cols];
                    for (int r = 0; r < rows; r++) {
                        double max = Double.NEGATIVE_INFINITY;
                        for (int c = 0; c < cols; c++) {
                            max = Math.max(max, x[r * cols + c]);
                        }
                        double sum = 0;
                        for (int c = 0; c < cols; c++) {
                            sum += Math.exp(x[r * cols + c] - max);
                        }
                        double dot = 0;
                        double dySum = 0;
                        for (int c = 0; c < cols; c++) {
                            int i = r * cols + c;
                            p[i] = Math.exp(x[i] - max) / sum;
                            logP[i] = x[i] - max - Math.log(sum);
                            dot += dy[i] * p[i];
                            dySum += dy[i];
                        }
                        for (int c = 0; c < cols; c++) {
                            int i = r * cols + c;
                            dxSoftmax[i] = p[i] * (dy[i] - dot);
                            dxLog[i] = dy[i] - p[i] * dySum;
                        }
                    }
                    F32Buffer y = Fixtures.zeros(rows * cols);
                    F32Buffer logY = Fixtures.zeros(rows * cols);
                    Softmax.forward(Fixtures.buffer(x), y, rows, cols).runOnCpu();
                    Softmax.logForward(Fixtures.buffer(x), logY, rows, cols).runOnCpu();
                    assertClose("softmax " + rows + "x" + cols, p, y, ATOL, RTOL);
                    // log-probabilities reach -100s here: their float rounding is relative.
                    assertClose("log_softmax " + rows + "x" + cols, logP, logY, 1e-4, RTOL);
                    F32Buffer dx = Fixtures.zeros(rows * cols);
                    Softmax.backward(y, Fixtures.buffer(dy), dx, rows, cols).runOnCpu();
                    assertClose("softmax backward " + rows + "x" + cols, dxSoftmax, dx, ATOL, 1e-4);
                    F32Buffer dxLogBuffer = Fixtures.buffer(dy);
                    Softmax.logBackward(logY, dxLogBuffer, dxLogBuffer, rows, cols).runOnCpu();
                    assertClose("log_softmax backward (in place) " + rows + "x" + cols, dxLog, dxLogBuffer, 1e-5, 1e-4);
                });
    }
}
