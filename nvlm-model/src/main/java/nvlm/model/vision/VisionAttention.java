package nvlm.model.vision;

import java.util.random.RandomGenerator;
import nvlm.model.config.VisionConfig;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Init;
import nvlm.tensor.nn.Linear;
import nvlm.tensor.nn.Module;
import nvlm.tensor.nn.Parameter;

/**
 * InternViT self-attention (docs/model.md §2): one qkv projection, optional RMSNorm of q and k over the
 * whole width before the head split, non-causal softmax attention, output projection.
 * With NVLM-D-72B's dummy heads the width is padded to {@code paddedHeads * headDim}; the q/k
 * RMS statistic then uses only the first {@code hiddenSize} (real) channels.
 */
public final class VisionAttention extends Module {
    private final VisionConfig config;
    private final Linear qkv;
    private final Parameter qNormWeight;
    private final Parameter kNormWeight;
    private final Linear proj;
    private final int width;

    public VisionAttention(VisionConfig config, RandomGenerator rng) {
        this.config = config;
        this.width = config.paddedHeads() * config.headDim();
        this.qkv = child("qkv", new Linear(config.hiddenSize(), 3L * width, config.qkvBias(), rng));
        this.qNormWeight = config.qkNormalization() ? parameter("q_norm.weight", Init.constant(1, width)) : null;
        this.kNormWeight = config.qkNormalization() ? parameter("k_norm.weight", Init.constant(1, width)) : null;
        this.proj = child("proj", new Linear(width, config.hiddenSize(), true, rng));
    }

    /** x [N, T, C] to [N, T, C]. */
    public Tensor forward(Tensor x) {
        long n = x.size(0);
        long t = x.size(1);
        Tensor qkvOut = qkv.forward(x);
        Tensor q = qkvOut.narrow(2, 0, width);
        Tensor k = qkvOut.narrow(2, width, width);
        Tensor v = qkvOut.narrow(2, 2L * width, width);
        if (qNormWeight != null) {
            q = qkNorm(q, qNormWeight.value());
            k = qkNorm(k, kNormWeight.value());
        }
        int heads = config.paddedHeads();
        int hd = config.headDim();
        Tensor qh = q.reshape(n, t, heads, hd).permute(0, 2, 1, 3);
        Tensor kh = k.reshape(n, t, heads, hd).permute(0, 2, 1, 3);
        Tensor vh = v.reshape(n, t, heads, hd).permute(0, 2, 1, 3);
        Tensor o = F.attention(qh, kh, vh, null, false, 1.0 / Math.sqrt(hd));
        return proj.forward(o.permute(0, 2, 1, 3).reshape(n, t, (long) width));
    }

    private Tensor qkNorm(Tensor x, Tensor weight) {
        if (config.numDummyHeads() == 0) {
            return F.rmsNorm(x, weight, config.normEps());
        }
        // Dummy heads are zero padding: the statistic is over the real channels only (docs/model.md §2).
        Tensor real = x.narrow(-1, 0, config.hiddenSize());
        Tensor rstd = real.square().mean(-1, true).add(config.normEps()).rsqrt();
        return x.mul(rstd).mul(weight);
    }
}
