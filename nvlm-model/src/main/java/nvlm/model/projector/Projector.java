package nvlm.model.projector;

import java.util.random.RandomGenerator;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.LayerNorm;
import nvlm.tensor.nn.Linear;
import nvlm.tensor.nn.Module;

/**
 * The vision-to-language projector {@code mlp1} (docs/model.md §4).
 * NVLM-D and NVLM-H: {@code LayerNorm(4C, eps 1e-5) -> Linear(4C -> F) -> GELU -> Linear(F -> d)}
 * (children 0, 1, 3 as in the checkpoints); NVLM-X (project decision):
 * {@code LayerNorm(4C) -> Linear(4C -> d, no bias)} (children 0, 1).
 */
public final class Projector extends Module {
    /** Projector LayerNorm eps (docs/model.md §4). */
    static final double NORM_EPS = 1e-5;

    private final LayerNorm norm;
    private final Linear fc1;
    private final Linear fc2;

    public Projector(NvlmConfig config, RandomGenerator rng) {
        int in = config.shuffledWidth();
        int d = config.llm().hiddenSize();
        this.norm = child("0", new LayerNorm(in, NORM_EPS, true));
        if (config.architecture() == Architecture.X) {
            this.fc1 = child("1", new Linear(in, d, false, rng));
            this.fc2 = null;
        } else {
            int hidden = config.projector().hiddenSize();
            boolean bias = config.projector().bias();
            this.fc1 = child("1", new Linear(in, hidden, bias, rng));
            this.fc2 = child("3", new Linear(hidden, d, bias, rng));
        }
    }

    /** Pixel-shuffled tokens [.., 4C] to decoder-width tokens [.., d]. */
    public Tensor forward(Tensor x) {
        Tensor h = fc1.forward(norm.forward(x));
        return fc2 == null ? h : fc2.forward(h.gelu());
    }
}
