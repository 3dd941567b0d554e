package nvlm.kernels.gpu;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import nvlm.kernels.translator.F32Buffer;

/** Random data and tolerant comparisons for the kernel tests. */
final class Fixtures {
    private Fixtures() {
    }

    static float[] gaussian(SplittableRandom random, int n, double scale) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        return values;
    }

    static float[] uniform(SplittableRandom random, int n, double low, double high) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextDouble(low, high);
        }
        return values;
    }

    static F32Buffer buffer(float[] values) {
        return F32Buffer.wrap(values.clone());
    }

    static F32Buffer zeros(long n) {
        return F32Buffer.wrap(new float[Math.toIntExact(n)]);
    }

    /**
     * |actual - expected| <= atol + rtol * |expected| for every element (NaN only where NaN is
     * expected); the message names the first element that is off.
     */
    static void assertClose(String what, double[] expected, float[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            fail(what + ": expected " + expected.length + " values, got " + actual.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            boolean ok = Double.isNaN(e) ? Double.isNaN(a)
                    : Double.isInfinite(e) ? e == a
                    : Math.abs(a - e) <= atol + rtol * Math.abs(e);
            if (!ok) {
                fail(what + ": element " + i + " is " + a + ", expected " + e + " (atol " + atol + ", rtol " + rtol + ")");
            }
        }
    }

    static void assertClose(String what, double[] expected, F32Buffer actual, double atol, double rtol) {
        assertClose(what, expected, actual.toArray(), atol, rtol);
    }

    /** The error function in double: its Taylor series below 3, the continued fraction of erfc above. */
    static double erf(double x) {
        double z = Math.abs(x);
        double result;
        if (z < 3) {
            double term = z;
            double sum = z;
            for (int n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
                term *= -z * z / n;
                sum += term / (2 * n + 1);
            }
            result = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            // erfc(z) = exp(-z^2)/sqrt(pi) * 1/(z + 1/2/(z + 1/(z + 3/2/(z + ...)))) evaluated from the tail.
            double fraction = z;
            for (int k = 60; k >= 1; k--) {
                fraction = z + (k / 2.0) / fraction;
            }
            result = 1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / fraction;
        }
        return x < 0 ? -result : result;
    }
}
