package nvlm.model.vision;

import java.util.random.RandomGenerator;
import nvlm.model.config.VisionConfig;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Linear;
import nvlm.tensor.nn.Module;

/** InternViT MLP (docs/model.md §2): {@code fc2(gelu(fc1(x)))} with exact GELU. */
public final class VisionMlp extends Module {
    private final Linear fc1;
    private final Linear fc2;

    public VisionMlp(VisionConfig config, RandomGenerator rng) {
        this.fc1 = child("fc1", new Linear(config.hiddenSize(), config.intermediateSize(), true, rng));
        this.fc2 = child("fc2", new Linear(config.intermediateSize(), config.hiddenSize(), true, rng));
    }

    public Tensor forward(Tensor x) {
        return fc2.forward(fc1.forward(x).gelu());
    }
}
