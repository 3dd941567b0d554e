package nvlm.model.llm;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import nvlm.model.config.LlmConfig;
import nvlm.model.xattn.CrossAttentionContext;
import nvlm.model.xattn.GatedCrossAttention;
import nvlm.tensor.F;
import nvlm.tensor.MemoryScope;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Embedding;
import nvlm.tensor.nn.Linear;
import nvlm.tensor.nn.Module;
import nvlm.tensor.nn.ModuleList;
import nvlm.tensor.nn.RMSNorm;

/**
 * {@code language_model}: the Qwen2 decoder (docs/model.md §5) under {@code model}, with the gated
 * cross-attention blocks of NVLM-X and NVLM-H under {@code model.xattn_layers} (docs/model.md §7, §9), and
 * {@code lm_head} unless the embeddings are tied.
 */
public final class LanguageModel extends Module {
    private final LlmConfig config;
    private final Decoder model;
    private final Linear lmHead;
    private final int xattnEvery;

    /** {@code xattnEvery} 0 means no cross-attention blocks (NVLM-D). */
    public LanguageModel(LlmConfig config, int xattnEvery, RandomGenerator rng) {
        this.config = config;
        this.xattnEvery = xattnEvery;
        this.model = child("model", new Decoder(config, xattnEvery, rng));
        this.lmHead = config.tieWordEmbeddings() ? null
                : child("lm_head", new Linear(config.hiddenSize(), config.vocabSize(), false, rng));
    }

    /** The decoder proper: embeddings, layers, final norm, and the cross-attention blocks. */
    static final class Decoder extends Module {
        final Embedding embedTokens;
        final ModuleList<DecoderLayer> layers;
        final RMSNorm norm;
        final ModuleList<GatedCrossAttention> xattnLayers;

        Decoder(LlmConfig config, int xattnEvery, RandomGenerator rng) {
            this.embedTokens = child("embed_tokens", new Embedding(config.vocabSize(), config.hiddenSize(), rng));
            List<DecoderLayer> blocks = new ArrayList<>();
            for (int i = 0; i < config.numLayers(); i++) {
                blocks.add(new DecoderLayer(config, rng));
            }
            this.layers = child("layers", new ModuleList<>(blocks));
            this.norm = child("norm", new RMSNorm(config.hiddenSize(), config.rmsNormEps()));
            if (xattnEvery > 0) {
                List<GatedCrossAttention> xs = new ArrayList<>();
                for (int i = 0; i < config.numLayers(); i++) {
                    if ((i + 1) % xattnEvery == 0) {
                        xs.add(new GatedCrossAttention(config, xs.size(), rng));
                    }
                }
                this.xattnLayers = child("xattn_layers", new ModuleList<>(xs));
            } else {
                this.xattnLayers = null;
            }
        }
    }

    public LlmConfig config() {
        return config;
    }

    /** A gated cross-attention block before every {@code xattnEvery()}-th layer (0: none, NVLM-D). */
    public int xattnEvery() {
        return xattnEvery;
    }

    /** Token embeddings [.., d] of I64 ids. */
    public Tensor embed(Tensor ids) {
        return model.embedTokens.forward(ids);
    }

    /** The embedding table [V, d]. */
    public Tensor embeddingTable() {
        return model.embedTokens.weight().value();
    }

    /** The cross-attention blocks in order (empty for NVLM-D). */
    public List<GatedCrossAttention> crossAttentionBlocks() {
        List<GatedCrossAttention> out = new ArrayList<>();
        if (model.xattnLayers != null) {
            model.xattnLayers.forEach(out::add);
        }
        return out;
    }

    /**
     * Final hidden states [B, T, d] of input embeddings [B, T, d]. {@code context} feeds the
     * cross-attention blocks (null: no block runs, as for a batch without images); with a
     * {@code cache} the tokens continue the cached sequence.
     */
    public Tensor hidden(Tensor embeddings, CrossAttentionContext context, KvCache cache) {
        Tensor x = embeddings;
        int block = 0;
        for (int i = 0; i < config.numLayers(); i++) {
            if (xattnEvery > 0 && (i + 1) % xattnEvery == 0) {
                if (context != null) {
                    // Not in a block scope of its own: a cached context computes the memory's keys
                    // and values on first use and keeps them for the next tokens.
                    x = model.xattnLayers.get(block).forward(x, context);
                }
                block++;
            }
            Tensor in = x;
            int layer = i;
            x = MemoryScope.block(() -> model.layers.get(layer).forward(in, cache, layer));
        }
        if (cache != null) {
            cache.advance(Math.toIntExact(embeddings.size(1)));
        }
        return model.norm.forward(x);
    }

    /** Vocabulary logits [.., V] of hidden states. */
    public Tensor logits(Tensor hidden) {
        return lmHead != null ? lmHead.forward(hidden) : F.linear(hidden, embeddingTable(), null);
    }

    /** A KV cache sized for this decoder. */
    public KvCache newCache(long batch, int capacity, nvlm.tensor.Device device) {
        return new KvCache(config.numLayers(), batch, config.numKvHeads(), capacity, config.headDim(), device);
    }
}
