package nvlm.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

class VectorMathTest {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    /** Max error in ulps of the correctly rounded f32 result, over the given inputs. */
    private static double maxUlpError(float[] xs, UnaryOperator<FloatVector> f, DoubleUnaryOperator exact, StringBuilder worst) {
        double max = 0;
        int lanes = SPECIES.length();
        float[] out = new float[lanes];
        for (int i = 0; i + lanes <= xs.length; i += lanes) {
            f.apply(FloatVector.fromArray(SPECIES, xs, i)).intoArray(out, 0);
            for (int k = 0; k < lanes; k++) {
                double e = exact.applyAsDouble(xs[i + k]);
                float ef = (float) e;
                double err;
                if (Double.isNaN(e) || Float.isInfinite(ef)) {
                    err = (Float.isNaN(out[k]) == Double.isNaN(e) && (Double.isNaN(e) || out[k] == ef)) ? 0 : Double.POSITIVE_INFINITY;
                } else {
                    // ulp of the exact value in f32 (at least the smallest subnormal).
                    err = Math.abs(out[k] - e) / Math.ulp(Math.max(Math.abs(ef), Float.MIN_NORMAL));
                }
                if (err > max) {
                    max = err;
                    worst.setLength(0);
                    worst.append("x=").append(xs[i + k]).append(" got ").append(out[k]).append(" exact ").append(e);
                }
            }
        }
        return max;
    }

    private static float[] inputs(Random r, int n, double lo, double hi) {
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) {
            xs[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return xs;
    }

    private static void check(String name, float[] xs, UnaryOperator<FloatVector> f, DoubleUnaryOperator exact, double ulps) {
        StringBuilder worst = new StringBuilder();
        double err = maxUlpError(xs, f, exact, worst);
        assertTrue(err <= ulps, name + ": max error " + err + " ulp > " + ulps + " at " + worst);
    }

    private static void checkAbsolute(String name, float[] xs, UnaryOperator<FloatVector> f, DoubleUnaryOperator exact,
                                      double bound) {
        int lanes = SPECIES.length();
        float[] out = new float[lanes];
        for (int i = 0; i + lanes <= xs.length; i += lanes) {
            f.apply(FloatVector.fromArray(SPECIES, xs, i)).intoArray(out, 0);
            for (int k = 0; k < lanes; k++) {
                double e = exact.applyAsDouble(xs[i + k]);
                double err = Math.abs(out[k] - e);
                float x = xs[i + k];
                assertTrue(err <= bound, () -> name + "(" + x + "): error " + err + " > " + bound);
            }
        }
    }

    @Test
    void expIsWithinOneUlpIncludingOverflowAndUnderflow() {
        Random r = new Random(1);
        check("exp", inputs(r, 1 << 16, -87, 88.7), VectorMath::exp, StrictMath::exp, 1.0);
        // Subnormal results: error measured in units of the smallest normal ulp.
        check("exp subnormal", inputs(r, 1 << 12, -103, -87), VectorMath::exp, StrictMath::exp, 1.0);
        check("exp specials", new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 89f, -105f, 0f,
                -0f, 88.72283f, 1e-30f, -1e-30f, 100f, -200f, 1f, -1f, 0.5f, 2f}, VectorMath::exp, StrictMath::exp, 1.0);
    }

    @Test
    void logIsWithinOneUlpOverEveryBinade() {
        Random r = new Random(2);
        float[] xs = new float[1 << 16];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = Float.intBitsToFloat(r.nextInt(0x7f800000)); // every positive finite float, subnormals included
        }
        check("log", xs, VectorMath::log, StrictMath::log, 1.0);
        check("log near 1", inputs(r, 1 << 14, 0.5, 2), VectorMath::log, StrictMath::log, 1.0);
        check("log specials", new float[] {0f, -0f, -1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.MIN_VALUE, Float.MAX_VALUE, 1f, 2f, 0.5f, 1e-40f, -1e-40f, 3f, 10f, 1.0000001f}, VectorMath::log,
                StrictMath::log, 1.0);
    }

    @Test
    void tanhIsWithinTwoUlps() {
        Random r = new Random(3);
        check("tanh", inputs(r, 1 << 16, -12, 12), VectorMath::tanh, StrictMath::tanh, 2.0);
        check("tanh small", inputs(r, 1 << 14, -1, 1), VectorMath::tanh, StrictMath::tanh, 2.0);
        check("tanh specials", new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 1e-30f,
                0.625f, -0.625f, 100f, -100f, 1f, 2f, 3f, 4f, 5f, 6f}, VectorMath::tanh, StrictMath::tanh, 2.0);
    }

    @Test
    void sinAndCosAreAccurateAndExactBeyondTheReductionRange() {
        Random r = new Random(4);
        // Up to 8192 the three-part f32 reduction of pi/4 leaves an absolute error of ~1e-11 in the
        // reduced argument: relative error grows only next to the zeros, so check absolute error there.
        float[] xs = inputs(r, 1 << 16, -8192, 8192);
        checkAbsolute("sin", xs, VectorMath::sin, StrictMath::sin, 1.2e-7);
        checkAbsolute("cos", xs, VectorMath::cos, StrictMath::cos, 1.2e-7);
        float[] small = inputs(r, 1 << 14, -4, 4);
        check("sin small", small, VectorMath::sin, StrictMath::sin, 2.0);
        check("cos small", small, VectorMath::cos, StrictMath::cos, 2.0);
        // Beyond 8192 the lanes go through StrictMath: exact to the f32 rounding.
        float[] huge = {1e5f, -3e7f, 1e30f, Float.MAX_VALUE, 9000f, -8193f, 123456.78f, 1e10f,
                Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 1e-30f, 3.1415927f, 1.5707964f};
        check("sin huge", huge, VectorMath::sin, StrictMath::sin, 0.5);
        check("cos huge", huge, VectorMath::cos, StrictMath::cos, 2.0);
    }

    @Test
    void sumLanesAddsInLaneOrder() {
        float[] lanes = new float[SPECIES.length()];
        lanes[0] = 1e8f;
        for (int i = 1; i < lanes.length; i++) {
            lanes[i] = 1f;
        }
        double expected = 0;
        for (float f : lanes) {
            expected += f;
        }
        assertEquals(expected, VectorMath.sumLanes(FloatVector.fromArray(SPECIES, lanes, 0)));
    }
}
