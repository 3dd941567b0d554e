package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Fixtures.assertClose;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.I32Buffer;
import org.junit.jupiter.api.Test;

class CrossEntropyTest {
    private static final int IGNORE = -100; // the model's ignore index, spec section 8

    @Test
    void lossAndGradientMatchTheDoubleReferenceWithIgnoredRows() {
        qt().withExamples(10).forAll(integers().between(1, 12), integers().between(1, 900), longs().all())
                .checkAssert((rows, vocab, seed) -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    float[] logits = Fixtures.gaussian(random, rows * vocab, 8);
                    int[] targets = new int[rows];
                    float[] dloss = new float[rows];
                    for (int r = 0; r < rows; r++) {
                        targets[r] = random.nextInt(4) == 0 ? IGNORE : random.nextInt(vocab);
                        dloss[r] = (float) random.nextDouble(0.1, 2);
                    }
                    double[] lse = new double[rows];
                    double[] loss = new double[rows];
                    double[] grad = new double[rows * vocab];
                    for (int r = 0; r < rows; r++) {
                        double max = Double.NEGATIVE_INFINITY;
                        for (int c = 0; c < vocab; c++) {
                            max = Math.max(max, logits[r * vocab + c]);
                        }
                        double sum = 0;
                        for (int c = 0; c < vocab; c++) {
                            sum += Math.exp(logits[r * vocab + c] - max);
                        }
                        lse[r] = max + Math.log(sum);
                        boolean ignored = targets[r] == IGNORE;
                        loss[r] = ignored ? 0 : lse[r] - logits[r * vocab + targets[r]];
                        for (int c = 0; c < vocab; c++) {
                            double p = Math.exp(logits[r * vocab + c] - lse[r]);
                            grad[r * vocab + c] = ignored ? 0 : dloss[r] * (p - (c == targets[r] ? 1 : 0));
                        }
                    }
                    F32Buffer lossOut = Fixtures.zeros(rows);
                    F32Buffer lseOut = Fixtures.zeros(rows);
                    I32Buffer targetBuffer = I32Buffer.wrap(targets);
                    CrossEntropy.forward(Fixtures.buffer(logits), targetBuffer, lossOut, lseOut, rows, vocab, IGNORE).runOnCpu();
                    String shape = rows + "x" + vocab;
                    // lse is ~max(logits) ~ 30: float rounding of it is relative.
                    assertClose("log-sum-exp " + shape, lse, lseOut, 1e-5, 1e-6);
                    assertClose("loss " + shape, loss, lossOut, 2e-5, 1e-5);
                    F32Buffer dlogits = Fixtures.buffer(logits);
                    CrossEntropy.backward(dlogits, targetBuffer, lseOut, Fixtures.buffer(dloss), dlogits, rows, vocab, IGNORE).runOnCpu();
                    assertClose("dlogits (in place) " + shape, grad, dlogits, 1e-6, 1e-4);
                });
    }
}
