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
        double sumSquares = 0;
        for (Parameter p : params) {
            Tensor g = p.grad();
            if (g != null) {
                Tensor c = g.contiguous();
                sumSquares += Backend.of(c.device()).sumOfSquares(c);
            }
        }
        double norm = Math.sqrt(sumSquares);
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
        return norm;
    }
}
