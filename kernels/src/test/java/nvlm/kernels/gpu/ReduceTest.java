package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Fixtures.assertClose;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import nvlm.kernels.hat.F32Buffer;
import org.junit.jupiter.api.Test;

class ReduceTest {
    // float accumulation of up to a few thousand unit-sized terms against a double sum.
    private static final double ATOL = 1e-4;
    private static final double RTOL = 1e-5;

    @Test
    void rowSumAndRowMaxMatchSerialReductions() {
        qt().withExamples(12).forAll(integers().between(1, 9), integers().between(1, 700), longs().all())
                .checkAssert((rows, cols, seed) -> {
                    float[] x = Fixtures.gaussian(new SplittableRandom(seed), rows * cols, 1);
                    F32Buffer sums = Fixtures.zeros(rows);
                    F32Buffer maxima = Fixtures.zeros(rows);
                    Reduce.rowSum(Fixtures.buffer(x), sums, rows, cols).runOnCpu();
                    Reduce.rowMax(Fixtures.buffer(x), maxima, rows, cols).runOnCpu();
                    double[] expectedSum = new double[rows];
                    double[] expectedMax = new double[rows];
                    for (int r = 0; r < rows; r++) {
                        expectedMax[r] = Double.NEGATIVE_INFINITY;
                        for (int c = 0; c < cols; c++) {
                            expectedSum[r] += x[r * cols + c];
                            expectedMax[r] = Math.max(expectedMax[r], x[r * cols + c]);
                        }
                    }
                    assertClose("row sums " + rows + "x" + cols, expectedSum, sums, ATOL, RTOL);
                    assertClose("row maxima " + rows + "x" + cols, expectedMax, maxima, 0, 0);
                });
    }

    @Test
    void columnSumInTwoPassesMatchesASerialSum() {
        qt().withExamples(30).forAll(integers().between(1, 300), integers().between(1, 300), longs().all())
                .checkAssert((rows, cols, seed) -> {
                    float[] x = Fixtures.gaussian(new SplittableRandom(seed), rows * cols, 1);
                    int chunks = Reduce.chunks(rows);
                    F32Buffer partial = Fixtures.zeros((long) chunks * cols);
                    F32Buffer out = Fixtures.buffer(Fixtures.gaussian(new SplittableRandom(seed + 1), cols, 1));
                    float[] before = out.toArray();
                    Reduce.columnSumPartial(Fixtures.buffer(x), partial, rows, cols).runOnCpu();
                    Reduce.columnSumFinal(partial, out, chunks, cols, true).runOnCpu();
                    double[] expected = new double[cols];
                    for (int c = 0; c < cols; c++) {
                        expected[c] = before[c];
                        for (int r = 0; r < rows; r++) {
                            expected[c] += x[r * cols + c];
                        }
                    }
                    assertClose("accumulated column sums " + rows + "x" + cols, expected, out, ATOL, RTOL);
                    Reduce.columnSumFinal(partial, out, chunks, cols, false).runOnCpu();
                    for (int c = 0; c < cols; c++) {
                        expected[c] -= before[c];
                    }
                    assertClose("column sums " + rows + "x" + cols, expected, out, ATOL, RTOL);
                });
    }

    @Test
    void sumOfSquaresInTwoPassesMatchesASerialSum() {
        qt().withExamples(10).forAll(integers().between(1, 20_000), longs().all()).checkAssert((n, seed) -> {
            float[] x = Fixtures.gaussian(new SplittableRandom(seed), n, 1);
            int blocks = Reduce.sumOfSquaresBlocks(n);
            F32Buffer partial = Fixtures.zeros(blocks);
            F32Buffer total = Fixtures.zeros(1);
            Reduce.sumOfSquaresPartial(Fixtures.buffer(x), partial, n).runOnCpu();
            Reduce.rowSum(partial, total, 1, blocks).runOnCpu();
            double expected = 0;
            for (float v : x) {
                expected += (double) v * v;
            }
            assertClose("sum of squares n=" + n, new double[] {expected}, total, ATOL, RTOL);
        });
    }
}
