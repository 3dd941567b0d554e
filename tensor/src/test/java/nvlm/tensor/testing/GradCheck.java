package nvlm.tensor.testing;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import nvlm.kernels.DType;
import nvlm.tensor.GradMode;
import nvlm.tensor.Tensor;

/**
 * Checks autograd gradients against central finite differences.
 *
 * <p>The function is reduced to a scalar {@code L = sum(f(x) * R)} with a fixed random R, so every
 * output element's gradient path is exercised. Differences are taken in double arithmetic on the
 * f32 forward values: with step h the f32 rounding of L contributes about
 * {@code 2^-24 * sum|f*R| / h} of noise, which the default tolerances (1e-2 relative, 1e-3
 * absolute per element, scaled to the gradient's magnitude) cover with margin for h = 1e-2 and
 * well-conditioned inputs; the kernels' own tests check backward formulas in full double precision.
 */
public final class GradCheck {
    private final double h;
    private final double rtol;
    private final double atol;

    private GradCheck(double h, double rtol, double atol) {
        this.h = h;
        this.rtol = rtol;
        this.atol = atol;
    }

    public static GradCheck standard() {
        return new GradCheck(1e-2, 1e-2, 1e-3);
    }

    /** Custom step and tolerances; say in the caller why the defaults do not fit. */
    public static GradCheck with(double h, double rtol, double atol) {
        return new GradCheck(h, rtol, atol);
    }

    /**
     * Checks d L / d input for every input that requires grad. Inputs must be F32 CPU leaves
     * (contiguous) so they can be perturbed in place.
     */
    public void check(String what, Function<List<Tensor>, Tensor> f, List<Tensor> inputs) {
        Tensor probeOut;
        try (var noGrad = GradMode.disabled()) {
            probeOut = f.apply(inputs);
        }
        SplittableRandom rng = new SplittableRandom(what.hashCode());
        float[] r = new float[Math.toIntExact(probeOut.numel())];
        for (int i = 0; i < r.length; i++) {
            r[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        Tensor weights = Tensor.of(r, probeOut.shape());

        for (Tensor x : inputs) {
            x.setGrad(null);
        }
        Tensor out = f.apply(inputs);
        out.mul(weights).sum().backward();

        for (int which = 0; which < inputs.size(); which++) {
            Tensor x = inputs.get(which);
            if (!x.requiresGrad()) {
                continue;
            }
            assertNotNull(x.grad(), what + ": input " + which + " got no gradient");
            float[] analytic = x.grad().toFloatArray();
            double scale = 0;
            for (float a : analytic) {
                scale = Math.max(scale, Math.abs(a));
            }
            if (x.dtype() != DType.F32 || !x.isContiguous()) {
                throw new IllegalArgumentException("GradCheck perturbs F32 contiguous inputs in place");
            }
            MemorySegment data = x.segment();
            List<String> failures = new ArrayList<>();
            for (long i = 0; i < x.numel(); i++) {
                float original = data.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                float plus = (float) (original + h);
                float minus = (float) (original - h);
                data.setAtIndex(ValueLayout.JAVA_FLOAT, i, plus);
                double lp = loss(f, inputs, r);
                data.setAtIndex(ValueLayout.JAVA_FLOAT, i, minus);
                double lm = loss(f, inputs, r);
                data.setAtIndex(ValueLayout.JAVA_FLOAT, i, original);
                double numeric = (lp - lm) / ((double) plus - minus);
                double a = analytic[(int) i];
                double tol = atol * Math.max(1, scale) + rtol * Math.abs(numeric);
                if (!(Math.abs(a - numeric) <= tol)) {
                    failures.add("d/dx" + which + "[" + i + "]: autograd " + a + ", finite difference " + numeric);
                }
            }
            if (!failures.isEmpty()) {
                fail(what + ": " + failures.size() + " of " + x.numel() + " gradient entries differ; first: "
                        + String.join("\n  ", failures.subList(0, Math.min(5, failures.size()))));
            }
        }
    }

    private static double loss(Function<List<Tensor>, Tensor> f, List<Tensor> inputs, float[] r) {
        try (var noGrad = GradMode.disabled()) {
            float[] y = f.apply(inputs).toFloatArray();
            double sum = 0;
            for (int i = 0; i < y.length; i++) {
                sum += (double) y[i] * r[i];
            }
            return sum;
        }
    }

    /** A fresh F32 leaf with N(0, 1) values scaled by {@code scale}, requiring grad. */
    public static Tensor leaf(SplittableRandom rng, double scale, long... shape) {
        float[] data = new float[Math.toIntExact(nvlm.tensor.Shape.numel(shape))];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (rng.nextGaussian() * scale);
        }
        return Tensor.of(data, shape).requiresGrad(true);
    }
}
