package nvlm.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

class ErfTest {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    /**
     * An erf independent of {@link Erf#erf(double)}: the alternating Maclaurin series
     * 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1)) for |x| <= 2 (terms below ~7 in size, so
     * cancellation costs < 1e-15), and 1 - erfc from the continued fraction
     * erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))) beyond.
     */
    private static double independentErf(double x) {
        double ax = Math.abs(x);
        double result;
        if (ax <= 2) {
            double term = ax;
            double sum = ax;
            for (int n = 1; n < 60; n++) {
                term *= -ax * ax / n;
                sum += term / (2 * n + 1);
            }
            result = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            double f = ax;
            for (int k = 200; k >= 1; k--) {
                f = ax + (k / 2.0) / f;
            }
            result = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        }
        return Math.copySign(result, x);
    }

    @Test
    void doubleErfAgreesWithAnIndependentSeriesAndContinuedFraction() {
        // Known values (Abramowitz & Stegun table 7.1, to 15 digits).
        assertEquals(0.112462916018285, Erf.erf(0.1), 1e-15);
        assertEquals(0.520499877813047, Erf.erf(0.5), 1e-15);
        assertEquals(0.842700792949715, Erf.erf(1.0), 1e-15);
        assertEquals(0.995322265018953, Erf.erf(2.0), 1e-15);
        assertEquals(0.999977909503001, Erf.erf(3.0), 1e-15);
        Random r = new Random(11);
        for (int i = 0; i < 20000; i++) {
            double x = r.nextGaussian() * 2.5;
            // Relative 1e-15 near 0; 2e-15 absolute for large |x|, where the positive series sums
            // ~x^2 growing terms (a few ulp of 1, still 8 orders below f32 resolution).
            assertEquals(independentErf(x), Erf.erf(x), 1e-15 * Math.abs(Erf.erf(x)) + 2e-15, "erf(" + x + ")");
        }
        assertEquals(1.0, Erf.erf(7.0));
        assertEquals(-1.0, Erf.erf(Double.NEGATIVE_INFINITY));
        assertTrue(Double.isNaN(Erf.erf(Double.NaN)));
    }

    @Test
    void vectorErfIsWithin1point5e7AbsoluteAndThreeUlps() {
        int lanes = SPECIES.length();
        // A dense grid over [-5, 5] plus random floats of every magnitude.
        Random r = new Random(12);
        int n = 400_000;
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) {
            xs[i] = i < 300_000 ? -5f + 10f * i / 300_000 : Float.intBitsToFloat(r.nextInt()) ;
        }
        float[] out = new float[lanes];
        double maxAbs = 0;
        double maxUlp = 0;
        for (int i = 0; i + lanes <= n; i += lanes) {
            Erf.erf(FloatVector.fromArray(SPECIES, xs, i)).intoArray(out, 0);
            for (int k = 0; k < lanes; k++) {
                float x = xs[i + k];
                double e = Erf.erf((double) x);
                if (Float.isNaN(x)) {
                    assertTrue(Float.isNaN(out[k]), "erf(NaN)");
                    continue;
                }
                double err = Math.abs(out[k] - e);
                maxAbs = Math.max(maxAbs, err);
                maxUlp = Math.max(maxUlp, err / Math.ulp(Math.max((float) Math.abs(e), Float.MIN_NORMAL)));
            }
        }
        // Measured: 1.25e-7 absolute, 2.2 ulp (the |x| <= 1 polynomial in f32 arithmetic).
        assertTrue(maxAbs <= 1.5e-7, "max abs error " + maxAbs);
        assertTrue(maxUlp <= 3, "max ulp error " + maxUlp);
    }

    @Test
    void vectorErfIsOddAndSaturates() {
        float[] xs = new float[SPECIES.length()];
        float[] special = {0f, -0f, 4f, -4f, 10f, -10f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1f, -1f, 1e-30f, -1e-30f};
        System.arraycopy(special, 0, xs, 0, Math.min(special.length, xs.length));
        float[] out = Erf.erf(FloatVector.fromArray(SPECIES, xs, 0)).toArray();
        for (int i = 0; i < xs.length; i++) {
            assertEquals(Float.floatToIntBits(out[i]), Float.floatToIntBits(-Erf.erf(FloatVector.broadcast(SPECIES, -xs[i])).lane(0)),
                    "erf(-x) = -erf(x) at " + xs[i]);
            if (Math.abs(xs[i]) >= 4) {
                assertEquals(Math.signum(xs[i]), out[i], "saturation at " + xs[i]);
            }
        }
    }

    @Test
    void doubleErfcKeepsRelativePrecisionInTheTail() {
        // mpmath values to 17 digits.
        assertEquals(0.47950012218695346, Erf.erfc(0.5), 3e-16); // 1 - erf: a few ulp of 0.5
        assertEquals(0.0046777349810472658, Erf.erfc(2.0), 1e-15 * 0.0046777349810472658);
        assertEquals(2.2090496998585441e-5, Erf.erfc(3.0), 1e-14 * 2.2090496998585441e-5);
        assertEquals(1.5374597944280349e-12, Erf.erfc(5.0), 1e-14 * 1.5374597944280349e-12);
        assertEquals(2.0884875837625448e-45, Erf.erfc(10.0), 1e-14 * 2.0884875837625448e-45);
        assertEquals(1.8427007929497149, Erf.erfc(-1.0), 1e-15);
    }

    @Test
    void vectorErfcIsAccurateRelativeToErfcIntoTheSubnormalTail() {
        int lanes = SPECIES.length();
        int n = 200_000;
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) {
            xs[i] = -6f + 16f * i / n; // [-6, 10): erfc from 2 down to 2e-45
        }
        float[] out = new float[lanes];
        for (int i = 0; i + lanes <= n; i += lanes) {
            Erf.erfc(FloatVector.fromArray(SPECIES, xs, i)).intoArray(out, 0);
            for (int k = 0; k < lanes; k++) {
                double x = xs[i + k];
                double e = Erf.erfc(x);
                // Numerical Recipes' fit is 1.2e-7 in exact arithmetic; f32 evaluation adds a few ulp,
                // plus the rounding of the exp argument -x^2 + R(t) to f32 (2^-24 x^2 relative: 5e-6 at x = 9).
                double bound = 3e-7 + 0x1p-24 * x * x;
                double tolerance = e >= Float.MIN_NORMAL ? bound * e : bound * Float.MIN_NORMAL + 2 * Float.MIN_VALUE;
                assertTrue(Math.abs(out[k] - e) <= tolerance, "erfc(" + x + ") = " + out[k] + ", expected " + e);
            }
        }
    }
}
