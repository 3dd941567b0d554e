package nvlm.model.llm;

import java.util.random.RandomGenerator;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Linear;
import nvlm.tensor.nn.Module;

/** The Qwen2 MLP (docs/model.md §5): {@code down(silu(gate(x)) * up(x))}, no biases. */
public final class SwiGlu extends Module {
    private final Linear gate;
    private final Linear up;
    private final Linear down;

    public SwiGlu(int hidden, int intermediate, RandomGenerator rng) {
        this.gate = child("gate_proj", new Linear(hidden, intermediate, false, rng));
        this.up = child("up_proj", new Linear(hidden, intermediate, false, rng));
        this.down = child("down_proj", new Linear(intermediate, hidden, false, rng));
    }

    public Tensor forward(Tensor x) {
        return down.forward(gate.forward(x).silu().mul(up.forward(x)));
    }
}
