package nvlm.model.llm;

import java.util.random.RandomGenerator;
import nvlm.model.config.LlmConfig;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Module;
import nvlm.tensor.nn.RMSNorm;
import nvlm.tensor.nn.SwiGlu;

/** One Qwen2 block (docs/model.md §5): {@code x += attn(input_layernorm(x))}, {@code x += mlp(post_attention_layernorm(x))}. */
public final class DecoderLayer extends Module {
    private final RMSNorm inputLayernorm;
    private final Qwen2Attention selfAttn;
    private final RMSNorm postAttentionLayernorm;
    private final SwiGlu mlp;

    public DecoderLayer(LlmConfig config, RandomGenerator rng) {
        this.inputLayernorm = child("input_layernorm", new RMSNorm(config.hiddenSize(), config.rmsNormEps()));
        this.selfAttn = child("self_attn", new Qwen2Attention(config, rng));
        this.postAttentionLayernorm = child("post_attention_layernorm", new RMSNorm(config.hiddenSize(), config.rmsNormEps()));
        this.mlp = child("mlp", new SwiGlu(config.hiddenSize(), config.intermediateSize(), rng));
    }

    public Tensor forward(Tensor x, KvCache cache, int layer) {
        Tensor h = x.add(selfAttn.forward(inputLayernorm.forward(x), cache, layer));
        return h.add(mlp.forward(postAttentionLayernorm.forward(h)));
    }
}
