package nvlm.tensor.optim;

import java.util.List;
import nvlm.tensor.Backend;
import nvlm.tensor.GradMode;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Parameter;

/** Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_). */
public final class GradClip {
    private GradClip() {
    }

    /**
     * Scales every gradient by {@code maxNorm / (norm + 1e-6)} when the global L2 norm exceeds
     * {@code maxNorm}. Returns the norm before clipping (NaN or infinite when a gradient is).
     */
    public static double clipGlobalNorm(List<Parameter> params, double maxNorm) {
        double norm = Math.sqrt(sumOfSquares(params));
        clipToNorm(params, norm, maxNorm);
        return norm;
    }

    /**
     * The sum of the squares of every gradient of {@code params}: one rank's part of the global
     * norm when the parameters are split across ranks (tensor parallelism), summed by the caller.
     */
    public static double sumOfSquares(List<Parameter> params) {
        double sumSquares = 0;
        for (Parameter p : params) {
            Tensor g = p.grad();
            if (g != null) {
                Tensor c = g.contiguous();
                sumSquares += Backend.of(c.device()).sumOfSquares(c);
            }
        }
        return sumSquares;
    }

    /** {@link #clipGlobalNorm}'s scaling, given the global {@code norm} of the gradients. */
    public static void clipToNorm(List<Parameter> params, double norm, double maxNorm) {
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1 && Double.isFinite(norm)) {
            try (var noGrad = GradMode.disabled()) {
                for (Parameter p : params) {
                    Tensor g = p.grad();
                    if (g != null) {
                        g.mul_(coef);
                    }
                }
            }
        }
    }
}
