package nvlm.kernels.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * f32 exp, log, tanh, sigmoid, sin and cos on vectors, written with IEEE-exact operations only
 * (add, mul, fma, div, bit manipulation).
 *
 * <p>Why not {@code lanewise(VectorOperators.EXP)}: C2 compiles it to the SVML library while the
 * interpreter and C1 evaluate {@code Math.exp} per lane, so the same input gives different bits
 * before and after a method is JIT-compiled, which breaks run-to-run determinism. The same holds
 * for {@code reduceLanes(ADD)} on floats, whose intrinsic may reorder the additions:
 * {@link #sumLanes} adds the lanes in a fixed order instead.
 *
 * <p>Signs are restored with compare/blend rather than bit operations: reinterpretAsInts() on a
 * float vector compiles to noticeably slower code than a blend.
 *
 * <p>The polynomials are the Cephes single-precision ones (S. L. Moshier, Cephes Math Library:
 * expf, logf, tanhf, sinf, cosf), with the range reductions done branch-free. Measured max errors
 * against double precision are stated in VectorMathTest.
 */
final class VectorMath {
    private static final float LOG2E = 1.44269504088896341f;
    // ln 2 split so that n * LN2_HI is exact for |n| <= 2^9 (Cephes C1, C2).
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: adding and subtracting it rounds a float of magnitude < 2^22 to the nearest integer. */
    private static final float ROUND_MAGIC = 12582912f;
    private static final float EXP_MIN = -104f; // exp(-104) < half the smallest subnormal
    private static final float EXP_MAX = 89f;   // exp(89) > Float.MAX_VALUE
    private static final float SQRT_HALF = 0.707106781186547524f;
    private static final float FOUR_OVER_PI = 1.27323954473516f;
    // pi/4 in three parts (Cephes DP1..DP3) for the sin/cos argument reduction.
    private static final float PIO4_1 = 0.78515625f;
    private static final float PIO4_2 = 2.4187564849853515625e-4f;
    private static final float PIO4_3 = 3.77489497744594108e-8f;
    /** Beyond this |x| the f32 reduction of sin/cos loses accuracy; such lanes use StrictMath. */
    private static final float TRIG_MAX = 8192f;

    private VectorMath() {
    }

    private static FloatVector c(FloatVector like, float v) {
        return like.broadcast(v);
    }

    /** e^x, within ~1 ulp; overflows to +inf, underflows through subnormals to 0; NaN stays NaN. */
    static FloatVector exp(FloatVector x) {
        FloatVector s = x;
        FloatVector xc = x.max(EXP_MIN).min(EXP_MAX);
        // n = round(x / ln 2), r = x - n ln 2 in [-ln2/2, ln2/2].
        FloatVector shifted = xc.fma(c(s, LOG2E), c(s, ROUND_MAGIC));
        FloatVector n = shifted.sub(ROUND_MAGIC);
        FloatVector r = n.fma(c(s, -LN2_HI), xc);
        r = n.fma(c(s, -LN2_LO), r);
        FloatVector z = r.mul(r);
        FloatVector p = c(s, 1.9875691500E-4f);
        p = p.fma(r, c(s, 1.3981999507E-3f));
        p = p.fma(r, c(s, 8.3334519073E-3f));
        p = p.fma(r, c(s, 4.1665795894E-2f));
        p = p.fma(r, c(s, 1.6666665459E-1f));
        p = p.fma(r, c(s, 5.0000001201E-1f));
        p = p.fma(z, r).add(1f);
        // 2^n as two factors 2^(n/2) 2^(n - n/2), each a normal float for n in [-150, 129].
        IntVector ni = (IntVector) n.convert(VectorOperators.F2I, 0);
        IntVector half = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector scale1 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector scale2 = ni.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        // NaN needs no special case: max/min propagate it into n and p.
        return p.mul(scale1).mul(scale2);
    }

    /** Natural log, within ~1 ulp; log(0) = -inf, log(negative) = NaN, log(+inf) = +inf. */
    static FloatVector log(FloatVector x) {
        FloatVector s = x;
        // Scale subnormals into the normal range first.
        VectorMask<Float> subnormal = x.compare(VectorOperators.LT, Float.MIN_NORMAL);
        FloatVector xs = x.blend(x.mul(8388608f), subnormal); // 2^23
        IntVector bits = xs.reinterpretAsInts();
        IntVector e = bits.lanewise(VectorOperators.LSHR, 23).and(0xff).sub(127)
                .sub(IntVector.zero(bits.species()).blend(23, subnormal.cast(bits.species())));
        // Mantissa m in [1, 2); fold to [sqrt(1/2), sqrt(2)) so that f = m - 1 is small.
        FloatVector m = bits.and(0x007fffff).or(0x3f800000).reinterpretAsFloats();
        VectorMask<Float> big = m.compare(VectorOperators.GT, 2 * SQRT_HALF);
        m = m.blend(m.mul(0.5f), big);
        FloatVector ef = ((FloatVector) e.convert(VectorOperators.I2F, 0)).add(c(s, 0f).blend(c(s, 1f), big));
        FloatVector result = logOfReduced(m.sub(1f), ef);
        // Special values: 0 -> -inf, negative -> NaN, +inf and NaN pass through.
        result = result.blend(c(s, Float.NEGATIVE_INFINITY), x.compare(VectorOperators.EQ, 0f));
        result = result.blend(c(s, Float.NaN), x.compare(VectorOperators.LT, 0f));
        VectorMask<Float> passThrough = x.compare(VectorOperators.NE, x).or(x.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY));
        return result.blend(x, passThrough);
    }

    /** log((1 + f) 2^e) for f in [sqrt(1/2) - 1, sqrt(2) - 1): Cephes' polynomial. */
    private static FloatVector logOfReduced(FloatVector f, FloatVector ef) {
        FloatVector s = f;
        FloatVector z = f.mul(f);
        FloatVector p = c(s, 7.0376836292E-2f);
        p = p.fma(f, c(s, -1.1514610310E-1f));
        p = p.fma(f, c(s, 1.1676998740E-1f));
        p = p.fma(f, c(s, -1.2420140846E-1f));
        p = p.fma(f, c(s, 1.4249322787E-1f));
        p = p.fma(f, c(s, -1.6668057665E-1f));
        p = p.fma(f, c(s, 2.0000714765E-1f));
        p = p.fma(f, c(s, -2.4999993993E-1f));
        p = p.fma(f, c(s, 3.3333331174E-1f));
        FloatVector y = p.mul(f).mul(z);
        y = ef.fma(c(s, LN2_LO), y);
        y = z.fma(c(s, -0.5f), y);
        return ef.fma(c(s, LN2_HI), f.add(y));
    }

    /** tanh, within ~2 ulp: Cephes' odd polynomial for |x| < 0.625, 1 - 2 / (e^(2|x|) + 1) beyond. */
    static FloatVector tanh(FloatVector x) {
        FloatVector s = x;
        FloatVector ax = x.abs();
        FloatVector z = x.mul(x);
        FloatVector p = c(s, -5.70498872745E-3f);
        p = p.fma(z, c(s, 2.06390887954E-2f));
        p = p.fma(z, c(s, -5.37397155531E-2f));
        p = p.fma(z, c(s, 1.33314422036E-1f));
        p = p.fma(z, c(s, -3.33332819422E-1f));
        FloatVector small = p.mul(z).fma(x, x);
        FloatVector e = exp(ax.add(ax).min(40f));
        FloatVector large = c(s, 1f).sub(c(s, 2f).div(e.add(1f)));
        large = large.blend(large.neg(), x.compare(VectorOperators.LT, 0f));
        return large.blend(small, ax.compare(VectorOperators.LT, 0.625f));
    }

    /** 1 / (1 + e^-x). */
    static FloatVector sigmoid(FloatVector x) {
        return x.broadcast(1f).div(exp(x.neg()).add(1f));
    }

    static FloatVector sin(FloatVector x) {
        return sinCos(x, false);
    }

    static FloatVector cos(FloatVector x) {
        return sinCos(x, true);
    }

    /**
     * Cephes sinf/cosf: j = floor(|x| 4/pi) rounded up to even selects the octant, |x| - j pi/4
     * in three parts, then the sin or cos polynomial on [-pi/4, pi/4] with the octant's sign.
     * (Split into helpers below 325 bytecodes each, the JIT's inlining limit for hot methods.)
     */
    private static FloatVector sinCos(FloatVector x, boolean cosine) {
        FloatVector ax = x.abs();
        FloatVector result = octantPolynomial(ax, cosine);
        if (!cosine) {
            result = result.blend(result.neg(), x.compare(VectorOperators.LT, 0f)); // sin is odd
        }
        VectorMask<Float> huge = ax.compare(VectorOperators.GT, TRIG_MAX);
        if (huge.anyTrue()) {
            result = strictLanes(x, result, huge, cosine);
        }
        // NaN and +-inf give NaN (x - x); comparisons instead of test(IS_NAN), which compiles to slower code.
        return result.blend(x.sub(x), x.compare(VectorOperators.NE, x).or(ax.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY)));
    }

    /** sin(|x|) or cos(|x|) for |x| <= TRIG_MAX. */
    private static FloatVector octantPolynomial(FloatVector ax, boolean cosine) {
        FloatVector s = ax;
        IntVector j = (IntVector) ax.mul(FOUR_OVER_PI).min(TRIG_MAX * 2).convert(VectorOperators.F2I, 0);
        j = j.add(j.and(1));
        FloatVector y = (FloatVector) j.convert(VectorOperators.I2F, 0);
        IntVector octant = j.and(7);
        FloatVector r = y.fma(c(s, -PIO4_1), ax);
        r = y.fma(c(s, -PIO4_2), r);
        r = y.fma(c(s, -PIO4_3), r);
        FloatVector z = r.mul(r);
        // The octant is 0, 2, 4 or 6 (j is even). In octants 2 and 6 (x near pi/2 or 3pi/2) sin
        // takes the cos polynomial of r and cos the sin polynomial; in 0 and 4 each takes its own.
        VectorMask<Integer> quadrantOdd = octant.and(2).compare(VectorOperators.NE, 0);
        VectorMask<Float> useCosPoly = cosine ? quadrantOdd.not().cast(ax.species()) : quadrantOdd.cast(ax.species());
        FloatVector result = sinPolynomial(r, z).blend(cosPolynomial(z), useCosPoly);
        VectorMask<Integer> negate = cosine
                ? octant.compare(VectorOperators.EQ, 2).or(octant.compare(VectorOperators.EQ, 4)) // cos < 0 in octants 2, 4
                : octant.compare(VectorOperators.GE, 4);                                           // sin < 0 in octants 4, 6
        return result.blend(result.neg(), negate.cast(ax.species()));
    }

    private static FloatVector sinPolynomial(FloatVector r, FloatVector z) {
        FloatVector s = r;
        FloatVector p = c(s, -1.9515295891E-4f);
        p = p.fma(z, c(s, 8.3321608736E-3f));
        p = p.fma(z, c(s, -1.6666654611E-1f));
        return p.mul(z).fma(r, r);
    }

    private static FloatVector cosPolynomial(FloatVector z) {
        FloatVector s = z;
        FloatVector p = c(s, 2.443315711809948E-005f);
        p = p.fma(z, c(s, -1.388731625493765E-003f));
        p = p.fma(z, c(s, 4.166664568298827E-002f));
        return p.mul(z).mul(z).add(z.mul(-0.5f)).add(1f);
    }

    /** Recomputes the lanes in {@code which} with StrictMath in double (arguments beyond the f32 reduction). */
    private static FloatVector strictLanes(FloatVector x, FloatVector result, VectorMask<Float> which, boolean cosine) {
        float[] lanes = x.toArray();
        float[] out = result.toArray();
        for (int i = 0; i < lanes.length; i++) {
            if (which.laneIsSet(i)) {
                out[i] = (float) (cosine ? StrictMath.cos(lanes[i]) : StrictMath.sin(lanes[i]));
            }
        }
        return FloatVector.fromArray(x.species(), out, 0);
    }

    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;

    /** The lower half of the lanes, widened to double (exact). */
    static DoubleVector low(FloatVector v) {
        return (DoubleVector) v.convertShape(VectorOperators.F2D, DOUBLES, 0);
    }

    /** The upper half of the lanes, widened to double (exact). */
    static DoubleVector high(FloatVector v) {
        return (DoubleVector) v.convertShape(VectorOperators.F2D, DOUBLES, 1);
    }

    /**
     * {@link #sumLanes(FloatVector)} through a caller's scratch array of at least the lane count:
     * the same bits without allocating (the array toArray makes is not always removed by C2;
     * attention's per-key dot products allocated megabytes per decoded token that way).
     */
    static double sumLanes(FloatVector v, float[] scratch) {
        v.intoArray(scratch, 0);
        return sumStoredLanes(scratch, 0, v.length());
    }

    /**
     * The sum {@link #sumLanes(FloatVector, float[])} computes, of a vector its caller has already
     * stored at {@code lanes[offset, offset + count)}: for a kernel that reduces several vectors at
     * once and must not pass them to a method (C2 boxes a vector argument where it does not inline).
     */
    static double sumStoredLanes(float[] lanes, int offset, int count) {
        double sum = 0;
        for (int i = 0; i < count; i++) {
            sum += lanes[offset + i];
        }
        return sum;
    }

    /** Sum of the lanes, added in lane order in double: the same bits in every JIT tier. */
    static double sumLanes(FloatVector v) {
        float[] lanes = v.toArray();
        double sum = 0;
        for (float f : lanes) {
            sum += f;
        }
        return sum;
    }

    /** Sum of the lanes, added in lane order. */
    static double sumLanes(DoubleVector v) {
        double[] lanes = v.toArray();
        double sum = 0;
        for (double d : lanes) {
            sum += d;
        }
        return sum;
    }
}
