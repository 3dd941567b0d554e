package nvlm.model.llm;

import java.util.random.RandomGenerator;
import nvlm.model.config.LlmConfig;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Module;
import nvlm.tensor.nn.RMSNorm;

/** One Qwen2 block (docs/model.md §5): {@code x += attn(input_layernorm(x))}, {@code x += mlp(post_attention_layernorm(x))}. */
public final class DecoderLayer extends Module {
    private final RMSNorm inputNorm;
    private final Qwen2Attention attention;
    private final RMSNorm postAttentionNorm;
    private final SwiGlu mlp;

    public DecoderLayer(LlmConfig config, RandomGenerator rng) {
        this.inputNorm = child("input_layernorm", new RMSNorm(config.hiddenSize(), config.rmsNormEps()));
        this.attention = child("self_attn", new Qwen2Attention(config, rng));
        this.postAttentionNorm = child("post_attention_layernorm", new RMSNorm(config.hiddenSize(), config.rmsNormEps()));
        this.mlp = child("mlp", new SwiGlu(config.hiddenSize(), config.intermediateSize(), rng));
    }

    public Tensor forward(Tensor x, KvCache cache, int layer) {
        Tensor h = x.add(attention.forward(inputNorm.forward(x), cache, layer));
        return h.add(mlp.forward(postAttentionNorm.forward(h)));
    }
}
