package nvlm.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import nvlm.kernels.DType;
import nvlm.kernels.hat.BF16Buffer;
import nvlm.kernels.hat.F16Buffer;
import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.I32Buffer;
import nvlm.kernels.hat.I64Buffer;
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
    void integerCastsKeepTheLowBitsAndSignExtend() {
        long[] wide = {0, 1, -1, 100, -100, Integer.MAX_VALUE, Integer.MIN_VALUE, 1L << 32, (1L << 32) + 5, Long.MIN_VALUE, -151_000};
        I32Buffer narrow = I32Buffer.wrap(new int[wide.length]);
        Cast.i64ToI32(I64Buffer.wrap(wide), narrow, wide.length).runOnCpu();
        I64Buffer back = I64Buffer.wrap(new long[wide.length]);
        Cast.i32ToI64(narrow, back, wide.length).runOnCpu();
        for (int i = 0; i < wide.length; i++) {
            assertEquals((int) wide[i], narrow.get(i));
            assertEquals((long) (int) wide[i], back.get(i));
        }
    }
}
