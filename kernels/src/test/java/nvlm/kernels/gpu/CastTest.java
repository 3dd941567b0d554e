package nvlm.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import nvlm.kernels.DType;
import nvlm.kernels.translator.BF16Buffer;
import nvlm.kernels.translator.F16Buffer;
import nvlm.kernels.translator.F32Buffer;
import org.junit.jupiter.api.Test;

class CastTest {
    @Test
    void floatNarrowingRoundsAsDTypeAndWideningIsExact() {
        qt().withExamples(30).forAll(integers().between(1, 3000), longs().all()).checkAssert((n, seed) -> {
            SplittableRandom random = new SplittableRandom(seed);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = random.nextBoolean() ? Float.intBitsToFloat(random.nextInt()) : (float) random.nextGaussian() * 1000;
            }
            BF16Buffer bf16 = BF16Buffer.wrapBits(new short[n]);
            F16Buffer f16 = F16Buffer.wrapBits(new short[n]);
            Cast.f32ToBf16(F32Buffer.wrap(x), bf16, n).runOnCpu();
            Cast.f32ToF16(F32Buffer.wrap(x), f16, n).runOnCpu();
            F32Buffer fromBf16 = Fixtures.zeros(n);
            F32Buffer fromF16 = Fixtures.zeros(n);
            Cast.bf16ToF32(bf16, fromBf16, n).runOnCpu();
            Cast.f16ToF32(f16, fromF16, n).runOnCpu();
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToIntBits(DType.bf16ToFloat(DType.floatToBf16(x[i]))),
                        Float.floatToIntBits(fromBf16.get(i)), "bf16 of " + x[i]);
                assertEquals(Float.floatToIntBits(DType.f16ToFloat(DType.floatToF16(x[i]))),
                        Float.floatToIntBits(fromF16.get(i)), "f16 of " + x[i]);
            }
        });
    }

    @Test
    void gemmOperandsArePackedRowByRowAndRoundedToBf16() {
        qt().withExamples(30).forAll(integers().between(1, 4), integers().between(1, 9), integers().between(1, 17),
                longs().all()).checkAssert((batch, rows, cols, seed) -> {
            SplittableRandom random = new SplittableRandom(seed);
            // A view with padded rows, and either gaps between its matrices or one matrix for every batch entry.
            long rowStride = cols + random.nextInt(0, 4);
            long batchStride = random.nextBoolean() ? 0 : rows * rowStride + random.nextInt(0, 5);
            float[] src = Fixtures.gaussian(random, (int) ((batch - 1) * batchStride + (rows - 1) * rowStride + cols), 3);
            BF16Buffer dst = BF16Buffer.wrapBits(new short[batch * rows * cols]);
            Cast.packBf16(F32Buffer.wrap(src), batchStride, rowStride, dst, batch, rows, cols).runOnCpu();
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        float x = src[(int) (b * batchStride + r * rowStride + c)];
                        assertEquals(DType.bf16ToFloat(DType.floatToBf16(x)), dst.get((b * rows + r) * cols + c),
                                "matrix " + b + " [" + r + ", " + c + "]");
                    }
                }
            }
        });
    }
}
