package nvlm.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The error function, which the Vector API lacks (needed by exact GELU, docs/model.md §2 and §4).
 *
 * <p>{@link #erf(FloatVector)} is an f32 approximation built for this project (coefficients fitted
 * with a weighted least-squares Chebyshev-node fit against mpmath, then rounded to f32):
 * <ul>
 *   <li>|x| <= 1: erf(x) = x * P(x^2), P of degree 6 (fit relative error 1.2e-9);</li>
 *   <li>1 < |x| < 4: erf(x) = 1 - exp(-x^2) * Q(1/x), Q of degree 9 approximating the scaled
 *       complementary error function erfcx(x) = exp(x^2) erfc(x) (fit relative error 1.7e-8);</li>
 *   <li>|x| >= 4: +-1 (erfc(4) = 1.5e-8 is below half an f32 ulp of 1).</li>
 * </ul>
 * Measured against a double-precision erf on a dense grid: max error 1.3e-7 absolute, about
 * 2.2 ulp (ErfTest checks both bounds). NaN propagates.
 *
 * <p>{@link #erfc(FloatVector)} is the complement, used by exact GELU. {@link #erf(double)} and
 * {@link #erfc(double)} are double-precision references (about 1e-15 relative) used by the scalar
 * reference kernels and the tests.
 */
public final class Erf {
    // P(s), s = x^2, for |x| <= 1
    private static final float P0 = 1.1283791065216064f;
    private static final float P1 = -0.3761262595653534f;
    private static final float P2 = 0.1128358244895935f;
    private static final float P3 = -0.026853691786527634f;
    private static final float P4 = 0.005188100039958954f;
    private static final float P5 = -0.0008008194854483008f;
    private static final float P6 = 7.847263623261824e-05f;
    // Q(t), t = 1/|x|, for 1 < |x| < 4
    private static final float Q0 = 0.00011467346485005692f;
    private static final float Q1 = 0.5618856549263f;
    private static final float Q2 = 0.01960477977991104f;
    private static final float Q3 = -0.3716980814933777f;
    private static final float Q4 = 0.21877969801425934f;
    private static final float Q5 = 0.25929775834083557f;
    private static final float Q6 = -0.5614663362503052f;
    private static final float Q7 = 0.45618364214897156f;
    private static final float Q8 = -0.187181293964386f;
    private static final float Q9 = 0.032063111662864685f;

    private Erf() {
    }

    /**
     * f32 erf of every lane. (Each branch is its own small method: the JIT inlines methods only
     * up to 325 bytecodes, and a vector helper that is not inlined boxes its vectors.)
     */
    public static FloatVector erf(FloatVector x) {
        FloatVector ax = x.abs();
        FloatVector large = large(ax);
        large = large.blend(large.neg(), x.compare(VectorOperators.LT, 0f));
        // NaN lanes are NaN in both branches (the compare is false, so the large branch is taken).
        return large.blend(small(x), ax.compare(VectorOperators.LE, 1f));
    }

    /** x P(x^2): odd, so it keeps the sign of x (and of -0). */
    private static FloatVector small(FloatVector x) {
        FloatVector s = x.mul(x);
        FloatVector p = x.broadcast(P6);
        p = p.fma(s, x.broadcast(P5));
        p = p.fma(s, x.broadcast(P4));
        p = p.fma(s, x.broadcast(P3));
        p = p.fma(s, x.broadcast(P2));
        p = p.fma(s, x.broadcast(P1));
        p = p.fma(s, x.broadcast(P0));
        return x.mul(p);
    }

    /** 1 - exp(-x^2) Q(1/x) for |x| clamped to [1, 4]. */
    private static FloatVector large(FloatVector ax) {
        FloatVector xc = ax.max(1f).min(4f);
        FloatVector t = ax.broadcast(1f).div(xc);
        FloatVector q = ax.broadcast(Q9);
        q = q.fma(t, ax.broadcast(Q8));
        q = q.fma(t, ax.broadcast(Q7));
        q = q.fma(t, ax.broadcast(Q6));
        q = q.fma(t, ax.broadcast(Q5));
        q = q.fma(t, ax.broadcast(Q4));
        q = q.fma(t, ax.broadcast(Q3));
        q = q.fma(t, ax.broadcast(Q2));
        q = q.fma(t, ax.broadcast(Q1));
        q = q.fma(t, ax.broadcast(Q0));
        FloatVector e = VectorMath.exp(xc.mul(xc).neg());
        return e.mul(q).neg().add(1f);
    }

    /**
     * f32 erfc of every lane: erfc(z) = t exp(-z^2 + R(t)), t = 1 / (1 + z/2), z = |x|, with the
     * Chebyshev-fitted R of Numerical Recipes (Press et al., 2nd ed., section 6.2, "erfcc"; fractional
     * error below 1.2e-7); erfc(x) = 2 - erfc(|x|) for x < 0. One branch and one exp, so it is cheaper
     * than {@link #erf(FloatVector)}, and relative to erfc it stays accurate far into the tail, which
     * is what GELU's Phi(x) = erfc(-x / sqrt 2) / 2 needs for negative x. Measured error in ErfTest.
     */
    public static FloatVector erfc(FloatVector x) {
        FloatVector z = x.abs();
        FloatVector t = z.broadcast(1f).div(z.fma(z.broadcast(0.5f), z.broadcast(1f)));
        FloatVector r = t.broadcast(0.17087277f);
        r = r.fma(t, t.broadcast(-0.82215223f));
        r = r.fma(t, t.broadcast(1.48851587f));
        r = r.fma(t, t.broadcast(-1.13520398f));
        r = r.fma(t, t.broadcast(0.27886807f));
        r = r.fma(t, t.broadcast(-0.18628806f));
        r = r.fma(t, t.broadcast(0.09678418f));
        r = r.fma(t, t.broadcast(0.37409196f));
        r = r.fma(t, t.broadcast(1.00002368f));
        r = r.fma(t, t.broadcast(-1.26551223f));
        FloatVector result = t.mul(VectorMath.exp(z.neg().fma(z, r)));
        return result.blend(result.neg().add(2f), x.compare(VectorOperators.LT, 0f));
    }

    /** Double-precision erfc: 1 - erf(x) for x < 2, else the continued fraction (full relative precision in the tail). */
    public static double erfc(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        if (x < 2) {
            return 1 - erf(x);
        }
        if (x > 27) {
            return 0; // below the smallest double
        }
        // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated from the tail.
        double f = x;
        for (int k = 200; k >= 1; k--) {
            f = x + (k / 2.0) / f;
        }
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
    }

    /**
     * Double-precision erf: the series erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)),
     * whose terms are all positive (no cancellation), for |x| < 6; +-1 beyond (erfc(6) = 2e-17).
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double ax = Math.abs(x);
        if (ax >= 6) {
            return Math.copySign(1.0, x);
        }
        double x2 = ax * ax;
        double term = ax;
        double sum = ax;
        for (int n = 1; n < 400; n++) {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17) {
                break;
            }
        }
        return Math.copySign(2 / Math.sqrt(Math.PI) * Math.exp(-x2) * sum, x);
    }
}
