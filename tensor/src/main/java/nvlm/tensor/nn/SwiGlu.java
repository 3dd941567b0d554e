package nvlm.tensor.nn;

import java.util.random.RandomGenerator;
import nvlm.tensor.Tensor;

/**
 * The gated MLP of Qwen2 and LLaMA (docs/model.md §5): {@code down(silu(gate(x)) * up(x))}, no biases. A
 * building block like {@link Linear}: the decoder layers and the gated cross-attention blocks
 * both use it.
 */
public final class SwiGlu extends Module {
    private final Linear gateProj;
    private final Linear upProj;
    private final Linear downProj;

    public SwiGlu(int hidden, int intermediate, RandomGenerator rng) {
        this.gateProj = child("gate_proj", new Linear(hidden, intermediate, false, rng));
        this.upProj = child("up_proj", new Linear(hidden, intermediate, false, rng));
        this.downProj = child("down_proj", new Linear(intermediate, hidden, false, rng));
    }

    public Tensor forward(Tensor x) {
        return downProj.forward(gateProj.forward(x).silu().mul(upProj.forward(x)));
    }
}
