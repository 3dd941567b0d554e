package nvlm.model.vision;

import java.util.random.RandomGenerator;
import nvlm.model.config.VisionConfig;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Init;
import nvlm.tensor.nn.LayerNorm;
import nvlm.tensor.nn.Module;
import nvlm.tensor.nn.Parameter;
import nvlm.tensor.nn.RMSNorm;

/**
 * One pre-norm InternViT block (docs/model.md §2):
 * {@code x = x + ls1 * proj(Attn(norm1(x)))}, {@code x = x + ls2 * fc2(gelu(fc1(norm2(x))))}.
 */
public final class VisionBlock extends Module {
    /** Layer-scale init (docs/model.md §2). */
    static final double LAYER_SCALE_INIT = 0.1;

    private final Module norm1;
    private final Module norm2;
    private final VisionAttention attn;
    private final VisionMlp mlp;
    private final Parameter ls1;
    private final Parameter ls2;

    public VisionBlock(VisionConfig config, RandomGenerator rng) {
        this.attn = child("attn", new VisionAttention(config, rng));
        this.mlp = child("mlp", new VisionMlp(config, rng));
        this.norm1 = child("norm1", norm(config));
        this.norm2 = child("norm2", norm(config));
        this.ls1 = parameter("ls1", Init.constant(LAYER_SCALE_INIT, config.hiddenSize()));
        this.ls2 = parameter("ls2", Init.constant(LAYER_SCALE_INIT, config.hiddenSize()));
    }

    private static Module norm(VisionConfig config) {
        return config.rmsNorm() ? new RMSNorm(config.hiddenSize(), config.normEps())
                : new LayerNorm(config.hiddenSize(), config.normEps(), true);
    }

    private static Tensor applyNorm(Module norm, Tensor x) {
        return norm instanceof RMSNorm r ? r.forward(x) : ((LayerNorm) norm).forward(x);
    }

    public Tensor forward(Tensor x) {
        Tensor h = x.add(attn.forward(applyNorm(norm1, x)).mul(ls1.value()));
        Tensor m = mlp.forward(applyNorm(norm2, h));
        return h.add(m.mul(ls2.value()));
    }
}
