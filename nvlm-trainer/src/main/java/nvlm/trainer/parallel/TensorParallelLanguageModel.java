package nvlm.trainer.parallel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nvlm.comm.Communicator;
import nvlm.comm.tp.ColumnParallelLinear;
import nvlm.comm.tp.RowParallelLinear;
import nvlm.comm.tp.VocabParallelCrossEntropy;
import nvlm.comm.tp.VocabParallelEmbedding;
import nvlm.model.config.LlmConfig;
import nvlm.model.llm.LanguageModel;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Embedding;
import nvlm.tensor.nn.Linear;
import nvlm.tensor.nn.Module;
import nvlm.tensor.nn.ModuleList;
import nvlm.tensor.nn.Parameter;
import nvlm.tensor.nn.RMSNorm;

/**
 * This rank's shard of a Qwen2 decoder (docs/model.md §5) under Megatron-style tensor parallelism
 * over the group {@code tp} of T ranks: per layer, q/k/v and gate/up are column-parallel (rank r
 * holds heads {@code [r*H/T, (r+1)*H/T)}, kv heads likewise, and its block of the intermediate
 * features), o and down are row-parallel; the token embedding and the LM head are split by
 * vocabulary and the loss is the vocabulary-parallel cross-entropy, so neither the [V, d] tables
 * nor the [N, V] logits exist whole on any rank. Norms are replicated: their gradients come out
 * whole and equal on every rank. Two all-reduces per layer forward, two backward.
 *
 * <p>Parameter names are the whole model's ({@code model.layers.0.self_attn.q_proj.weight}, ...),
 * each holding this rank's block; {@link #wholeStateDict()} gathers the blocks back into the
 * whole model's tensors, which is how a checkpoint written under any T is read under any other
 * (or by the single-process loader). The decoder of NVLM-D only: the gated cross-attention blocks
 * of NVLM-X and NVLM-H are not sharded (yet).
 */
public final class TensorParallelLanguageModel extends Module {
    /** How a parameter is split: along which dimension, or not at all (-1). */
    private final Map<String, Integer> splitDims = new LinkedHashMap<>();
    private final Communicator tp;
    private final LlmConfig config;
    private final Decoder model;
    private final ColumnParallelLinear lmHead;

    /** This rank's shard of {@code whole} (which must have no cross-attention blocks). */
    public TensorParallelLanguageModel(Communicator tp, LanguageModel whole) {
        this.tp = tp;
        this.config = whole.config();
        int t = tp.size();
        if (!whole.crossAttentionBlocks().isEmpty()) {
            throw new IllegalArgumentException("tensor parallelism: the decoder has " + whole.crossAttentionBlocks().size()
                    + " cross-attention blocks (NVLM-X/H), which are not sharded yet; NVLM-D's decoder only");
        }
        if (config.numHeads() % t != 0 || config.numKvHeads() % t != 0 || config.intermediateSize() % t != 0
                || config.vocabSize() % t != 0) {
            throw new IllegalArgumentException("tensor parallelism over " + t + " ranks needs llm.num_heads ("
                    + config.numHeads() + "), llm.num_kv_heads (" + config.numKvHeads() + "), llm.intermediate_size ("
                    + config.intermediateSize() + ") and llm.vocab_size (" + config.vocabSize() + ") divisible by " + t);
        }
        Module wholeDecoder = whole.children().get("model");
        this.model = child("model", new Decoder(tp, config, wholeDecoder));
        Module head = whole.children().get("lm_head");
        this.lmHead = head == null ? null : child("lm_head", new ColumnParallelLinear(tp, (Linear) head, "lm_head"));
        for (String name : namedParameters().keySet()) {
            splitDims.put(name, splitDim(name));
        }
    }

    private static int splitDim(String name) {
        if (name.endsWith("q_proj.weight") || name.endsWith("k_proj.weight") || name.endsWith("v_proj.weight")
                || name.endsWith("q_proj.bias") || name.endsWith("k_proj.bias") || name.endsWith("v_proj.bias")
                || name.endsWith("gate_proj.weight") || name.endsWith("up_proj.weight")
                || name.equals("model.embed_tokens.weight") || name.equals("lm_head.weight")) {
            return 0;
        }
        if (name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight")) {
            return 1;
        }
        return -1;
    }

    /** The dimension parameter {@code name} is split along across the ranks, or -1 when every rank holds it whole. */
    public int splitDimOf(String name) {
        Integer d = splitDims.get(name);
        if (d == null) {
            throw new IllegalArgumentException("no parameter " + name + " in the tensor-parallel decoder");
        }
        return d;
    }

    public Communicator group() {
        return tp;
    }

    /** Token embeddings [B, T, d] of I64 ids, the same on every rank. */
    public Tensor embed(Tensor ids) {
        return model.embedTokens.forward(ids);
    }

    /** Final hidden states [B, T, d] (whole, the same on every rank). */
    public Tensor hidden(Tensor embeddings) {
        Tensor x = embeddings;
        for (int i = 0; i < model.layers.size(); i++) {
            x = model.layers.get(i).forward(x);
        }
        return model.norm.forward(x);
    }

    /** This rank's block of the vocabulary logits [B, T, V/T]. */
    public Tensor logitsBlock(Tensor hidden) {
        if (lmHead != null) {
            return lmHead.forward(hidden);
        }
        return F.linear(nvlm.comm.tp.ParallelRegions.copyTo(tp, hidden), model.embedTokens.weight().value(), null);
    }

    /** The causal LM loss of {@code Nvlm.loss} (docs/model.md §8) from this rank's logits block; the same on every rank. */
    public Tensor loss(Tensor logitsBlock, Tensor labels) {
        long b = logitsBlock.size(0);
        long t = logitsBlock.size(1);
        long v = logitsBlock.size(2);
        Tensor predictions = logitsBlock.narrow(1, 0, t - 1).reshape(b * (t - 1), v);
        Tensor targets = labels.narrow(1, 1, t - 1).reshape(b * (t - 1));
        return VocabParallelCrossEntropy.loss(tp, predictions, tp.rank() * v, targets, F.IGNORE_INDEX);
    }

    /** The whole model's tensors, gathered from every rank's blocks (a collective over the group). */
    public Map<String, Tensor> wholeStateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : namedParameters().entrySet()) {
            Tensor block = e.getValue().value().detach();
            out.put(e.getKey(), gather(block, splitDims.get(e.getKey())));
        }
        return out;
    }

    /** The ranks' blocks of a tensor split along {@code dim} (-1: whole already), concatenated. */
    public Tensor gather(Tensor block, int dim) {
        if (dim < 0 || tp.size() == 1) {
            return block.contiguousCopy().detach();
        }
        if (dim == 0) {
            return tp.allGather(block.contiguous());
        }
        return tp.allGather(block.transpose(0, 1).contiguousCopy().detach()).transpose(0, 1).contiguousCopy().detach();
    }

    private static final class Decoder extends Module {
        final VocabParallelEmbedding embedTokens;
        final ModuleList<Layer> layers;
        final RMSNorm norm;

        Decoder(Communicator tp, LlmConfig config, Module whole) {
            Map<String, Module> parts = whole.children();
            this.embedTokens = child("embed_tokens", new VocabParallelEmbedding(tp, (Embedding) parts.get("embed_tokens"),
                    "model.embed_tokens"));
            List<Layer> list = new ArrayList<>();
            Module wholeLayers = parts.get("layers");
            for (int i = 0; i < config.numLayers(); i++) {
                list.add(new Layer(tp, config, wholeLayers.children().get(Integer.toString(i)), "model.layers." + i));
            }
            this.layers = child("layers", new ModuleList<>(list));
            this.norm = child("norm", copy((RMSNorm) parts.get("norm"), config));
        }
    }

    private static final class Layer extends Module {
        final RMSNorm inputLayernorm;
        final Attention selfAttn;
        final RMSNorm postAttentionLayernorm;
        final Mlp mlp;

        Layer(Communicator tp, LlmConfig config, Module whole, String name) {
            Map<String, Module> parts = whole.children();
            this.inputLayernorm = child("input_layernorm", copy((RMSNorm) parts.get("input_layernorm"), config));
            this.selfAttn = child("self_attn", new Attention(tp, config, parts.get("self_attn"), name + ".self_attn"));
            this.postAttentionLayernorm = child("post_attention_layernorm",
                    copy((RMSNorm) parts.get("post_attention_layernorm"), config));
            this.mlp = child("mlp", new Mlp(tp, parts.get("mlp"), name + ".mlp"));
        }

        Tensor forward(Tensor x) {
            Tensor h = x.add(selfAttn.forward(inputLayernorm.forward(x)));
            return h.add(mlp.forward(postAttentionLayernorm.forward(h)));
        }
    }

    /** Qwen2Attention on this rank's heads: the same RoPE, causal GQA and scale (docs/model.md §5). */
    private static final class Attention extends Module {
        final LlmConfig config;
        final int heads;
        final int kvHeads;
        final ColumnParallelLinear qProj;
        final ColumnParallelLinear kProj;
        final ColumnParallelLinear vProj;
        final RowParallelLinear oProj;

        Attention(Communicator tp, LlmConfig config, Module whole, String name) {
            this.config = config;
            this.heads = config.numHeads() / tp.size();
            this.kvHeads = config.numKvHeads() / tp.size();
            Map<String, Module> parts = whole.children();
            this.qProj = child("q_proj", new ColumnParallelLinear(tp, (Linear) parts.get("q_proj"), name + ".q_proj"));
            this.kProj = child("k_proj", new ColumnParallelLinear(tp, (Linear) parts.get("k_proj"), name + ".k_proj"));
            this.vProj = child("v_proj", new ColumnParallelLinear(tp, (Linear) parts.get("v_proj"), name + ".v_proj"));
            this.oProj = child("o_proj", new RowParallelLinear(tp, (Linear) parts.get("o_proj"), name + ".o_proj"));
        }

        Tensor forward(Tensor x) {
            long b = x.size(0);
            long t = x.size(1);
            int hd = config.headDim();
            Tensor qh = F.rope(qProj.forward(x).reshape(b, t, heads, hd), 0, config.ropeTheta()).permute(0, 2, 1, 3);
            Tensor kh = F.rope(kProj.forward(x).reshape(b, t, kvHeads, hd), 0, config.ropeTheta()).permute(0, 2, 1, 3);
            Tensor vh = vProj.forward(x).reshape(b, t, kvHeads, hd).permute(0, 2, 1, 3);
            Tensor out = F.attention(qh, kh, vh, null, true, 1.0 / Math.sqrt(hd));
            return oProj.forward(out.permute(0, 2, 1, 3).reshape(b, t, (long) heads * hd));
        }
    }

    /** SwiGlu with gate/up column-parallel and down row-parallel. */
    private static final class Mlp extends Module {
        final ColumnParallelLinear gateProj;
        final ColumnParallelLinear upProj;
        final RowParallelLinear downProj;

        Mlp(Communicator tp, Module whole, String name) {
            Map<String, Module> parts = whole.children();
            this.gateProj = child("gate_proj", new ColumnParallelLinear(tp, (Linear) parts.get("gate_proj"), name + ".gate_proj"));
            this.upProj = child("up_proj", new ColumnParallelLinear(tp, (Linear) parts.get("up_proj"), name + ".up_proj"));
            this.downProj = child("down_proj", new RowParallelLinear(tp, (Linear) parts.get("down_proj"), name + ".down_proj"));
        }

        Tensor forward(Tensor x) {
            return downProj.forward(gateProj.forward(x).silu().mul(upProj.forward(x)));
        }
    }

    private static RMSNorm copy(RMSNorm whole, LlmConfig config) {
        RMSNorm norm = new RMSNorm(config.hiddenSize(), config.rmsNormEps());
        norm.loadStateDict(Map.of("weight", whole.weight().value().detach().contiguousCopy().detach()), true);
        return norm;
    }
}
