package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * One step of torch.optim.AdamW (amsgrad=False, maximize=False, the single-tensor CPU path),
 * reproducing PyTorch's f32 operation order:
 * <pre>
 *   p = p * (1 - lr*wd)                                  param.mul_(1 - lr * weight_decay)
 *   m = fma(w, g - m, m), w = 1 - b1                     exp_avg.lerp_(grad, 1 - beta1)  (lerp_vec; w &lt; 0.5)
 *   v = fma((1 - b2) * g, g, v * b2)                     exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
 *   denom = sqrt(v) / sqrt(1 - b2^step) + eps            (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
 *   p = p + (-(lr / (1 - b1^step)) * m) / denom          param.addcdiv_(exp_avg, denom, value=-step_size)
 * </pre>
 * The hyperparameters are doubles (Python floats): every scalar is formed in double, as in the
 * Python code, and rounded to f32 where PyTorch's kernel does. The addcmul is fused because
 * PyTorch's compiled CPU kernel contracts it (checked bit for bit against torch 1.13 here).
 */
public final class AdamW {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Fixed block of {@link #sumOfSquares}: its partials are added in order, so bits do not depend on threads. */
    private static final long SQUARES_BLOCK = 1 << 16;

    private AdamW() {
    }

    /**
     * Updates param, m (exp_avg) and v (exp_avg_sq) in place for n contiguous values; step is the
     * 1-based step count after increment (PyTorch's state["step"]).
     */
    public static void step(MemorySegment param, long pOff, MemorySegment grad, long gOff, MemorySegment m, long mOff,
                            MemorySegment v, long vOff, long n, double lr, double beta1, double beta2, double eps,
                            double weightDecay, int step) {
        Arguments.requireF32("param", param, pOff, n);
        Arguments.requireF32("grad", grad, gOff, n);
        Arguments.requireF32("m", m, mOff, n);
        Arguments.requireF32("v", v, vOff, n);
        // The checks torch.optim.AdamW makes in its constructor.
        if (!(lr >= 0)) {
            throw new IllegalArgumentException("AdamW: lr must be >= 0, got " + lr);
        }
        if (!(eps >= 0)) {
            throw new IllegalArgumentException("AdamW: eps must be >= 0, got " + eps);
        }
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("AdamW: beta1 must be in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamW: beta2 must be in [0, 1), got " + beta2);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("AdamW: weightDecay must be >= 0, got " + weightDecay);
        }
        if (step < 1) {
            throw new IllegalArgumentException("AdamW: step must be >= 1, got " + step);
        }
        Scalars k = new Scalars(lr, beta1, beta2, eps, weightDecay, step);
        ElementBlocks.forElements(n, (s, e) -> update(k, param, pOff + s, grad, gOff + s, m, mOff + s, v, vOff + s, e - s));
    }

    /** The f32 scalars of one step, formed in double as the Python optimizer does. */
    record Scalars(float decay, float lerpCoefficient, boolean lerpSmall, float beta2, float oneMinusBeta2,
                   float bc2Sqrt, float eps, float negStepSize) {
        Scalars(double lr, double beta1, double beta2, double eps, double weightDecay, int step) {
            this((float) (1 - lr * weightDecay), lerpCoefficient(1 - beta1), Math.abs((float) (1 - beta1)) < 0.5f,
                    (float) beta2, (float) (1 - beta2), (float) Math.sqrt(1 - Math.pow(beta2, step)), (float) eps,
                    (float) -(lr / (1 - Math.pow(beta1, step))));
        }

        /** ATen lerp_vec: fma(w, end - start, start) for |w| < 0.5, else fma(w - 1, end - start, end). */
        private static float lerpCoefficient(double weight) {
            float w = (float) weight;
            return Math.abs(w) < 0.5f ? w : w - 1f;
        }
    }

    private static void update(Scalars k, MemorySegment param, long pOff, MemorySegment grad, long gOff,
                               MemorySegment m, long mOff, MemorySegment v, long vOff, long n) {
        FloatVector decay = FloatVector.broadcast(SPECIES, k.decay());
        FloatVector lerpW = FloatVector.broadcast(SPECIES, k.lerpCoefficient());
        boolean lerpSmall = k.lerpSmall();
        FloatVector beta2 = FloatVector.broadcast(SPECIES, k.beta2());
        FloatVector c2 = FloatVector.broadcast(SPECIES, k.oneMinusBeta2());
        FloatVector bc2Sqrt = FloatVector.broadcast(SPECIES, k.bc2Sqrt());
        FloatVector eps = FloatVector.broadcast(SPECIES, k.eps());
        FloatVector negStep = FloatVector.broadcast(SPECIES, k.negStepSize());
        long bound = SPECIES.loopBound(n);
        long i = 0;
        for (; i < bound; i += LANES) {
            FloatVector p = F32Rows.load(param, pOff + i).mul(decay);
            FloatVector g = F32Rows.load(grad, gOff + i);
            FloatVector mv = F32Rows.load(m, mOff + i);
            FloatVector vv = F32Rows.load(v, vOff + i);
            mv = lerpW.fma(g.sub(mv), lerpSmall ? mv : g);
            vv = c2.mul(g).fma(g, vv.mul(beta2));
            p = p.add(mv.mul(negStep).div(vv.sqrt().div(bc2Sqrt).add(eps)));
            p.intoMemorySegment(param, (pOff + i) * 4, ORDER);
            mv.intoMemorySegment(m, (mOff + i) * 4, ORDER);
            vv.intoMemorySegment(v, (vOff + i) * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> mask = SPECIES.indexInRange(i, n);
            FloatVector p = F32Rows.load(param, pOff + i, mask).mul(decay);
            FloatVector g = F32Rows.load(grad, gOff + i, mask);
            FloatVector mv = F32Rows.load(m, mOff + i, mask);
            FloatVector vv = F32Rows.load(v, vOff + i, mask);
            mv = lerpW.fma(g.sub(mv), lerpSmall ? mv : g);
            vv = c2.mul(g).fma(g, vv.mul(beta2));
            p = p.add(mv.mul(negStep).div(vv.sqrt().div(bc2Sqrt).add(eps)));
            p.intoMemorySegment(param, (pOff + i) * 4, ORDER, mask);
            mv.intoMemorySegment(m, (mOff + i) * 4, ORDER, mask);
            vv.intoMemorySegment(v, (vOff + i) * 4, ORDER, mask);
        }
    }

    /** sum(x[i]^2) for n contiguous values, squared and accumulated in double (global-norm clipping). */
    public static double sumOfSquares(MemorySegment x, long xOff, long n) {
        Arguments.requireF32("x", x, xOff, n);
        long blocks = (n + SQUARES_BLOCK - 1) / SQUARES_BLOCK;
        double[] partial = new double[(int) Math.min(Integer.MAX_VALUE, blocks)];
        ElementBlocks.forElements(blocks, Math.max(1, ElementBlocks.MIN_PER_TASK / SQUARES_BLOCK), (s, e) -> {
            for (long b = s; b < e; b++) {
                long start = b * SQUARES_BLOCK;
                partial[(int) b] = sumOfSquaresBlock(x, xOff + start, Math.min(SQUARES_BLOCK, n - start));
            }
        });
        double total = 0;
        for (double p : partial) {
            total += p;
        }
        return total;
    }

    private static double sumOfSquaresBlock(MemorySegment x, long off, long n) {
        DoubleVector acc0 = DoubleVector.zero(DOUBLES);
        DoubleVector acc1 = DoubleVector.zero(DOUBLES);
        long bound = SPECIES.loopBound(n);
        long i = 0;
        for (; i < bound; i += LANES) {
            FloatVector f = F32Rows.load(x, off + i);
            DoubleVector d0 = VectorMath.low(f);
            DoubleVector d1 = VectorMath.high(f);
            acc0 = d0.fma(d0, acc0);
            acc1 = d1.fma(d1, acc1);
        }
        if (i < n) {
            FloatVector f = F32Rows.load(x, off + i, SPECIES.indexInRange(i, n));
            DoubleVector d0 = VectorMath.low(f);
            DoubleVector d1 = VectorMath.high(f);
            acc0 = d0.fma(d0, acc0);
            acc1 = d1.fma(d1, acc1);
        }
        return VectorMath.sumLanes(acc0.add(acc1));
    }
}
