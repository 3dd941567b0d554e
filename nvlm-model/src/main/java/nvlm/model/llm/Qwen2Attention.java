package nvlm.model.llm;

import java.util.random.RandomGenerator;
import nvlm.model.config.LlmConfig;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Linear;
import nvlm.tensor.nn.Module;

/**
 * Qwen2 self-attention (docs/model.md §5): q/k/v projections with bias, o_proj without, rotate-half RoPE
 * on q and k at positions {@code startPos + t}, causal grouped-query attention scaled by
 * 1/sqrt(headDim).
 */
public final class Qwen2Attention extends Module {
    private final LlmConfig config;
    private final Linear qProj;
    private final Linear kProj;
    private final Linear vProj;
    private final Linear oProj;

    public Qwen2Attention(LlmConfig config, RandomGenerator rng) {
        this.config = config;
        int d = config.hiddenSize();
        int hd = config.headDim();
        this.qProj = child("q_proj", new Linear(d, (long) config.numHeads() * hd, true, rng));
        this.kProj = child("k_proj", new Linear(d, (long) config.numKvHeads() * hd, true, rng));
        this.vProj = child("v_proj", new Linear(d, (long) config.numKvHeads() * hd, true, rng));
        this.oProj = child("o_proj", new Linear((long) config.numHeads() * hd, d, false, rng));
    }

    /** x [B, T, d]; with a cache, the tokens sit at positions cache.length() onward. */
    public Tensor forward(Tensor x, KvCache cache, int layer) {
        long b = x.size(0);
        long t = x.size(1);
        int hd = config.headDim();
        int start = cache == null ? 0 : cache.length();
        double theta = config.ropeTheta(start + t);
        Tensor qh = F.rope(qProj.forward(x).reshape(b, t, config.numHeads(), hd), start, theta).permute(0, 2, 1, 3);
        Tensor kh = F.rope(kProj.forward(x).reshape(b, t, config.numKvHeads(), hd), start, theta).permute(0, 2, 1, 3);
        Tensor vh = vProj.forward(x).reshape(b, t, config.numKvHeads(), hd).permute(0, 2, 1, 3);
        if (cache != null) {
            Tensor[] kv = cache.append(layer, kh, vh);
            kh = kv[0];
            vh = kv[1];
        }
        Tensor out = F.attention(qh, kh, vh, null, true, 1.0 / Math.sqrt(hd));
        return oProj.forward(out.permute(0, 2, 1, 3).reshape(b, t, (long) config.numHeads() * hd));
    }
}
