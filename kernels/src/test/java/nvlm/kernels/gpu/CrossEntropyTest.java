package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.I64Buffer;
import org.junit.jupiter.api.Test;

class CrossEntropyTest {
    @Test
    void lossStatisticsAndGradientMatchTheDoubleReferenceWithIgnoredRows() {
        qt().withExamples(10).forAll(integers().between(1, 12), integers().between(1, 900), longs().all())
                .checkAssert((rows, vocab, seed) -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    long ignore = random.nextBoolean() ? -100 : vocab + 3;
                    float[] logits = Fixtures.gaussian(random, rows * vocab, 8);
                    long[] targets = new long[rows];
                    for (int r = 0; r < rows; r++) {
                        targets[r] = random.nextInt(4) == 0 ? ignore : random.nextInt(vocab);
                    }
                    float scale = (float) random.nextDouble(0.1, 2);
                    double[] lse = new double[rows];
                    double[] stats = new double[3 * rows];
                    double[] grad = new double[rows * vocab];
                    for (int r = 0; r < rows; r++) {
                        if (targets[r] == ignore) {
                            continue;  // lse 0, stats 0, gradient 0
                        }
                        double max = Double.NEGATIVE_INFINITY;
                        for (int c = 0; c < vocab; c++) {
                            max = Math.max(max, logits[r * vocab + c]);
                        }
                        double sum = 0;
                        for (int c = 0; c < vocab; c++) {
                            sum += Math.exp(logits[r * vocab + c] - max);
                        }
                        lse[r] = max + Math.log(sum);
                        stats[r] = lse[r] - logits[r * vocab + (int) targets[r]];
                        stats[rows + r] = 1;
                        for (int c = 0; c < vocab; c++) {
                            double p = Math.exp(logits[r * vocab + c] - lse[r]);
                            grad[r * vocab + c] = scale * (p - (c == targets[r] ? 1 : 0));
                        }
                    }
                    F32Buffer lseOut = Fixtures.zeros(rows);
                    F32Buffer statsOut = Fixtures.zeros(3 * rows);
                    I64Buffer targetBuffer = I64Buffer.wrap(targets);
                    CrossEntropy.forward(Fixtures.buffer(logits), targetBuffer, ignore, lseOut, statsOut, rows, vocab)
                            .runOnCpu();
                    String shape = rows + "x" + vocab;
                    // lse is ~max(logits) ~ 30: its float rounding is relative.
                    assertClose("log-sum-exp " + shape, lse, lseOut, 1e-5, 1e-6);
                    assertClose("losses, labelled and out-of-range flags " + shape, stats, statsOut, 2e-5, 1e-5);
                    F32Buffer dlogits = Fixtures.zeros(rows * vocab);
                    CrossEntropy.backward(Fixtures.buffer(logits), targetBuffer, ignore, lseOut, scale, dlogits, rows, vocab)
                            .runOnCpu();
                    assertClose("dlogits " + shape, grad, dlogits, 1e-6, 1e-4);
                });
    }

    @Test
    void aTargetOutsideTheVocabularyIsFlaggedForTheHost() {
        F32Buffer stats = Fixtures.zeros(6);
        CrossEntropy.forward(Fixtures.buffer(new float[] {0, 1, 2, 3}), I64Buffer.wrap(7, 1), -100, Fixtures.zeros(2),
                stats, 2, 2).runOnCpu();
        assertEquals(1f, stats.get(4), "row 0: target 7 of a vocabulary of 2");
        assertEquals(0f, stats.get(5), "row 1: in range");
        assertEquals(1f, stats.get(2), "row 0 is labelled");
    }
}
