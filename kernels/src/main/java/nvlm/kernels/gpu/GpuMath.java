package nvlm.kernels.gpu;

/**
 * Float functions kernels need that java.lang.Math lacks, written in the kernel subset so they
 * become {@code __device__} functions.
 */
public final class GpuMath {
    private GpuMath() {
    }

    private static final float TWO_OVER_SQRT_PI = 1.1283791670955126f;

    /**
     * The error function in float: a Taylor series below |x| = 0.5 (keeps small arguments
     * relatively accurate), above it {@code 1 - erfc} with the Chebyshev fit of Numerical Recipes
     * (2nd ed., section 6.2, {@code erfcc}: fractional error below 1.2e-7).
     */
    public static float erf(float x) {
        float z = Math.abs(x);
        if (z < 0.5f) {
            float x2 = x * x;
            // 2/sqrt(pi) * (x - x^3/3 + x^5/10 - x^7/42 + x^9/216 - x^11/1320)
            float series = 1f + x2 * (-1f / 3f + x2 * (1f / 10f + x2 * (-1f / 42f + x2 * (1f / 216f + x2 * (-1f / 1320f)))));
            return TWO_OVER_SQRT_PI * x * series;
        }
        float t = 1f / (1f + 0.5f * z);
        float poly = -z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f
                + t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f
                + t * (-0.82215223f + t * 0.17087277f))))))));
        float erfc = t * (float) Math.exp(poly);
        return x >= 0 ? 1f - erfc : erfc - 1f;
    }

    /** The logistic sigmoid 1 / (1 + e^-x), without overflow for large |x|. */
    public static float sigmoid(float x) {
        if (x >= 0) {
            return 1f / (1f + (float) Math.exp(-x));
        }
        float e = (float) Math.exp(x);
        return e / (1f + e);
    }
}
