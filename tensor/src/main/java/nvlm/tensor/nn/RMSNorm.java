package nvlm.tensor.nn;

import nvlm.tensor.F;
import nvlm.tensor.Tensor;

/** RMSNorm over the last dimension (docs/model.md §5), weight 1 at init. */
public final class RMSNorm extends Module {
    private final Parameter weight;
    private final double eps;

    public RMSNorm(long dim, double eps) {
        this.weight = parameter("weight", Init.constant(1, dim));
        this.eps = eps;
    }

    public Tensor forward(Tensor x) {
        return F.rmsNorm(x, weight.value(), eps);
    }

    public Parameter weight() {
        return weight;
    }
}
