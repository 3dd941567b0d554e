package nvlm.model.xattn;

import java.util.random.RandomGenerator;
import nvlm.model.config.LlmConfig;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Init;
import nvlm.tensor.nn.Linear;
import nvlm.tensor.nn.Module;
import nvlm.tensor.nn.Parameter;
import nvlm.tensor.nn.RMSNorm;
import nvlm.tensor.nn.SwiGlu;

/**
 * A Flamingo-style gated cross-attention block with Qwen2 conventions (docs/model.md §7, project decision):
 * {@code x = x + tanh(attn_gate) * XAttn(norm1(x), M)}, then
 * {@code x = x + tanh(ff_gate) * SwiGLU(norm2(x))}; gates start at 0. Positions with an empty
 * attention set get exactly 0 from both terms (Mllama's row mask).
 */
public final class GatedCrossAttention extends Module {
    private final LlmConfig config;
    private final int index;
    private final Parameter attnGate;
    private final Parameter ffGate;
    private final RMSNorm norm1;
    private final RMSNorm norm2;
    private final CrossAttention attn;
    private final SwiGlu mlp;

    public GatedCrossAttention(LlmConfig config, int index, RandomGenerator rng) {
        this.config = config;
        this.index = index;
        this.attnGate = parameter("attn_gate", Init.constant(0, 1));
        this.ffGate = parameter("ff_gate", Init.constant(0, 1));
        this.norm1 = child("norm1", new RMSNorm(config.hiddenSize(), config.rmsNormEps()));
        this.norm2 = child("norm2", new RMSNorm(config.hiddenSize(), config.rmsNormEps()));
        this.attn = child("attn", new CrossAttention(config, rng));
        this.mlp = child("mlp", new SwiGlu(config.hiddenSize(), config.intermediateSize(), rng));
    }

    public Tensor forward(Tensor x, CrossAttentionContext context) {
        Tensor[] kv = context.keysAndValues(index, () -> attn.keysAndValues(context.memory()));
        Tensor a = attn.forward(norm1.forward(x), kv[0], kv[1], context.mask());
        Tensor h = x.add(a.mul(attnGate.value().tanh()));
        Tensor ff = mlp.forward(norm2.forward(h)).mul(context.rowMask());
        return h.add(ff.mul(ffGate.value().tanh()));
    }

    /** Gate parameters (tests set them away from 0). */
    public Parameter attnGate() {
        return attnGate;
    }

    public Parameter ffGate() {
        return ffGate;
    }

    /** XAttn: q from x, k/v from memory, no RoPE, GQA, scale 1/sqrt(headDim), no biases. */
    public static final class CrossAttention extends Module {
        private final LlmConfig config;
        private final Linear qProj;
        private final Linear kProj;
        private final Linear vProj;
        private final Linear oProj;

        CrossAttention(LlmConfig config, RandomGenerator rng) {
            this.config = config;
            int d = config.hiddenSize();
            int hd = config.headDim();
            this.qProj = child("q_proj", new Linear(d, (long) config.numHeads() * hd, false, rng));
            this.kProj = child("k_proj", new Linear(d, (long) config.numKvHeads() * hd, false, rng));
            this.vProj = child("v_proj", new Linear(d, (long) config.numKvHeads() * hd, false, rng));
            this.oProj = child("o_proj", new Linear((long) config.numHeads() * hd, d, false, rng));
        }

        /** Memory [B, Lm, d] to keys and values [B, kvHeads, Lm, hd]. */
        Tensor[] keysAndValues(Tensor memory) {
            long b = memory.size(0);
            long lm = memory.size(1);
            int hd = config.headDim();
            Tensor kh = kProj.forward(memory).reshape(b, lm, config.numKvHeads(), hd).permute(0, 2, 1, 3);
            Tensor vh = vProj.forward(memory).reshape(b, lm, config.numKvHeads(), hd).permute(0, 2, 1, 3);
            return new Tensor[] {kh, vh};
        }

        Tensor forward(Tensor x, Tensor kh, Tensor vh, Tensor mask) {
            long b = x.size(0);
            long t = x.size(1);
            int hd = config.headDim();
            Tensor qh = qProj.forward(x).reshape(b, t, config.numHeads(), hd).permute(0, 2, 1, 3);
            // Rows with no visible memory entry come back exactly 0 from the fused kernel.
            Tensor out = F.attention(qh, kh, vh, mask, false, 1.0 / Math.sqrt(hd));
            return oProj.forward(out.permute(0, 2, 1, 3).reshape(b, t, (long) config.numHeads() * hd));
        }
    }
}
