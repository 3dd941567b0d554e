package nvlm.tensor.nn;

import java.util.random.RandomGenerator;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;

/** {@code y = x W^T + b}, weight [out, in] as in PyTorch; initialised U(-1/sqrt(in), 1/sqrt(in)) like PyTorch. */
public final class Linear extends Module {
    private final Parameter weight;
    private final Parameter bias;

    public Linear(long in, long out, boolean bias, RandomGenerator rng) {
        double bound = 1 / Math.sqrt(in);
        this.weight = parameter("weight", Init.uniform(rng, bound, out, in));
        this.bias = bias ? parameter("bias", Init.uniform(rng, bound, out)) : null;
    }

    public Tensor forward(Tensor x) {
        return F.linear(x, weight.value(), bias == null ? null : bias.value());
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias, or null. */
    public Parameter bias() {
        return bias;
    }

    public long inFeatures() {
        return weight.value().size(1);
    }

    public long outFeatures() {
        return weight.value().size(0);
    }
}
