package nvlm.tensor.nn;

import nvlm.tensor.F;
import nvlm.tensor.Tensor;

/** LayerNorm over the last dimension; weight 1, bias 0 (optional) at init. */
public final class LayerNorm extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final double eps;

    public LayerNorm(long dim, double eps, boolean bias) {
        this.weight = parameter("weight", Init.constant(1, dim));
        this.bias = bias ? parameter("bias", Init.constant(0, dim)) : null;
        this.eps = eps;
    }

    public Tensor forward(Tensor x) {
        return F.layerNorm(x, weight.value(), bias == null ? null : bias.value(), eps);
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }
}
