package nvlm.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import org.junit.jupiter.api.Test;

class DTypeTest {

    @Test
    void bf16RoundsToTheNearestRepresentableValueTiesToEven() {
        qt().withExamples(20000).forAll(integers().all()).checkAssert(bits -> {
            float x = Float.intBitsToFloat(bits);
            if (Float.isNaN(x)) {
                assertTrue(Float.isNaN(DType.bf16ToFloat(DType.floatToBf16(x))));
                return;
            }
            float rounded = DType.bf16ToFloat(DType.floatToBf16(x));
            // The two bf16 neighbours of x: truncation, and one bf16 ulp further from zero
            // (2^128 stands in for the neighbour past the largest finite value, as IEEE overflow does).
            int downBits = bits & 0xffff0000;
            double down = Float.intBitsToFloat(downBits);
            int upBits = downBits + 0x10000;
            double up = (upBits & 0x7f800000) == 0x7f800000 && !Float.isInfinite(x)
                    ? Math.copySign(0x1p128, x) : Float.intBitsToFloat(upBits);
            double dDown = Math.abs(x - down);
            double dUp = Math.abs(x - up);
            double nearest = dDown < dUp ? down : dUp < dDown ? up : (((bits >>> 16) & 1) == 0 ? down : up);
            float expected = (float) nearest;
            assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(rounded), () -> "x=" + x);
        });
    }

    @Test
    void f16RoundTripsEveryHalfValue() {
        for (int h = 0; h < 0x10000; h++) {
            float f = DType.f16ToFloat((short) h);
            if (!Float.isNaN(f)) {
                assertEquals((short) h, DType.floatToF16(f));
            }
        }
    }

    @Test
    void namesAreSafetensorsNames() {
        for (DType dtype : DType.values()) {
            assertEquals(dtype, DType.fromSafetensorsName(dtype.name()));
        }
        assertEquals(null, DType.fromSafetensorsName("F64"));
    }
}
