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
import nvlm.model.Nvlm;
import nvlm.model.config.LlmConfig;
import nvlm.model.llm.LanguageModel;
import nvlm.model.xattn.CrossAttentionContext;
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
 * (or by the single-process loader). The gated cross-attention blocks of NVLM-X and NVLM-H
 * (docs/model.md §7) are sharded the same way: q/k/v (k and v over the image memory) and gate/up
 * column-parallel, o and down row-parallel, gates and norms replicated.
 *
 * <p>Each shard parameter is trainable when the whole model's is (the stage's flags, set before
 * sharding), and plugs into {@link Nvlm#loss(nvlm.model.Batch, Nvlm.Decoder)} in place of the
 * whole decoder: that is how {@code ./nvlm train --tp T} trains.
 */
public final class TensorParallelLanguageModel extends Module implements Nvlm.Decoder {
    /** How a parameter is split: along which dimension, or not at all (-1). */
    private final Map<String, Integer> splitDims = new LinkedHashMap<>();
    private final Communicator tp;
    private final LlmConfig config;
    private final Decoder model;
    private final ColumnParallelLinear lmHead;
    private final int xattnEvery;

    /** This rank's shard of {@code whole}. */
    public TensorParallelLanguageModel(Communicator tp, LanguageModel whole) {
        this.tp = tp;
        this.config = whole.config();
        int t = tp.size();
        if (config.numHeads() % t != 0 || config.numKvHeads() % t != 0 || config.intermediateSize() % t != 0
                || config.vocabSize() % t != 0) {
            throw new IllegalArgumentException("tensor parallelism over " + t + " ranks needs llm.num_heads ("
                    + config.numHeads() + "), llm.num_kv_heads (" + config.numKvHeads() + "), llm.intermediate_size ("
                    + config.intermediateSize() + ") and llm.vocab_size (" + config.vocabSize() + ") divisible by " + t);
        }
        Module wholeDecoder = whole.children().get("model");
        this.xattnEvery = whole.xattnEvery();
        this.model = child("model", new Decoder(tp, config, wholeDecoder));
        Module head = whole.children().get("lm_head");
        this.lmHead = head == null ? null : child("lm_head", new ColumnParallelLinear(tp, (Linear) head, "lm_head"));
        Map<String, Parameter> wholeParams = whole.namedParameters();
        for (Map.Entry<String, Parameter> e : namedParameters().entrySet()) {
            splitDims.put(e.getKey(), splitDim(e.getKey()));
            e.getValue().trainable(wholeParams.get(e.getKey()).trainable());
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

    /** Final hidden states [B, T, d] (whole, the same on every rank) of a decoder without cross-attention. */
    public Tensor hidden(Tensor embeddings) {
        return hidden(embeddings, null);
    }

    /**
     * Final hidden states [B, T, d] (whole, the same on every rank), as {@code LanguageModel.hidden}:
     * {@code context} feeds the cross-attention blocks (null: none runs).
     */
    public Tensor hidden(Tensor embeddings, CrossAttentionContext context) {
        Tensor x = embeddings;
        int block = 0;
        for (int i = 0; i < model.layers.size(); i++) {
            if (xattnEvery > 0 && (i + 1) % xattnEvery == 0) {
                if (context != null) {
                    x = model.xattnLayers.get(block).forward(x, context);
                }
                block++;
            }
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

    /** The loss of {@link Nvlm#loss(Tensor, Tensor)} from the final hidden states [B, T, d]; the same on every rank. */
    @Override
    public Tensor meanLoss(Tensor hidden, Tensor labels) {
        if (hidden.size(1) < 2) {
            return Tensor.full(hidden.device(), nvlm.kernels.DType.F32, Double.NaN); // as Nvlm.loss: nothing to predict
        }
        return loss(logitsBlock(hidden), labels);
    }

    /** This rank's block of {@code whole}, a tensor shaped as the whole model's parameter {@code name}. */
    public Tensor blockOf(String name, Tensor whole) {
        int dim = splitDimOf(name);
        if (dim < 0 || tp.size() == 1) {
            return whole;
        }
        long block = whole.size(dim) / tp.size();
        return whole.narrow(dim, tp.rank() * block, block).contiguousCopy().detach();
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
        final ModuleList<CrossAttentionBlock> xattnLayers;

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
            Module wholeBlocks = parts.get("xattn_layers");
            if (wholeBlocks != null) {
                List<CrossAttentionBlock> blocks = new ArrayList<>();
                for (int i = 0; i < wholeBlocks.children().size(); i++) {
                    blocks.add(new CrossAttentionBlock(tp, config, wholeBlocks.children().get(Integer.toString(i)),
                            "model.xattn_layers." + i));
                }
                this.xattnLayers = child("xattn_layers", new ModuleList<>(blocks));
            } else {
                this.xattnLayers = null;
            }
        }
    }

    /** GatedCrossAttention (docs/model.md §7) on this rank's heads and MLP block; gates and norms whole. */
    private static final class CrossAttentionBlock extends Module {
        final LlmConfig config;
        final int heads;
        final int kvHeads;
        final Parameter attnGate;
        final Parameter ffGate;
        final RMSNorm norm1;
        final RMSNorm norm2;
        final ColumnParallelLinear qProj;
        final ColumnParallelLinear kProj;
        final ColumnParallelLinear vProj;
        final RowParallelLinear oProj;
        final Mlp mlp;

        CrossAttentionBlock(Communicator tp, LlmConfig config, Module whole, String name) {
            this.config = config;
            this.heads = config.numHeads() / tp.size();
            this.kvHeads = config.numKvHeads() / tp.size();
            Map<String, Parameter> own = whole.namedParameters();
            this.attnGate = parameter("attn_gate", own.get("attn_gate").value().detach().contiguousCopy().detach());
            this.ffGate = parameter("ff_gate", own.get("ff_gate").value().detach().contiguousCopy().detach());
            Map<String, Module> parts = whole.children();
            this.norm1 = child("norm1", copy((RMSNorm) parts.get("norm1"), config));
            this.norm2 = child("norm2", copy((RMSNorm) parts.get("norm2"), config));
            Map<String, Module> attn = parts.get("attn").children();
            CrossAttentionHeads projections = child("attn", new CrossAttentionHeads(
                    new ColumnParallelLinear(tp, (Linear) attn.get("q_proj"), name + ".attn.q_proj"),
                    new ColumnParallelLinear(tp, (Linear) attn.get("k_proj"), name + ".attn.k_proj"),
                    new ColumnParallelLinear(tp, (Linear) attn.get("v_proj"), name + ".attn.v_proj"),
                    new RowParallelLinear(tp, (Linear) attn.get("o_proj"), name + ".attn.o_proj")));
            this.qProj = projections.qProj;
            this.kProj = projections.kProj;
            this.vProj = projections.vProj;
            this.oProj = projections.oProj;
            this.mlp = child("mlp", new Mlp(tp, parts.get("mlp"), name + ".mlp"));
        }

        Tensor forward(Tensor x, CrossAttentionContext context) {
            Tensor memory = context.memory();
            long b = x.size(0);
            long t = x.size(1);
            long lm = memory.size(1);
            int hd = config.headDim();
            Tensor kh = kProj.forward(memory).reshape(b, lm, kvHeads, hd).permute(0, 2, 1, 3);
            Tensor vh = vProj.forward(memory).reshape(b, lm, kvHeads, hd).permute(0, 2, 1, 3);
            Tensor qh = qProj.forward(norm1.forward(x)).reshape(b, t, heads, hd).permute(0, 2, 1, 3);
            Tensor out = F.attention(qh, kh, vh, context.mask(), false, 1.0 / Math.sqrt(hd));
            Tensor a = oProj.forward(out.permute(0, 2, 1, 3).reshape(b, t, (long) heads * hd));
            Tensor h = x.add(a.mul(attnGate.value().tanh()));
            Tensor ff = mlp.forward(norm2.forward(h)).mul(context.rowMask());
            return h.add(ff.mul(ffGate.value().tanh()));
        }

        /** The sharded projections under {@code attn}, named as in the whole model. */
        private static final class CrossAttentionHeads extends Module {
            final ColumnParallelLinear qProj;
            final ColumnParallelLinear kProj;
            final ColumnParallelLinear vProj;
            final RowParallelLinear oProj;

            CrossAttentionHeads(ColumnParallelLinear q, ColumnParallelLinear k, ColumnParallelLinear v, RowParallelLinear o) {
                this.qProj = child("q_proj", q);
                this.kProj = child("k_proj", k);
                this.vProj = child("v_proj", v);
                this.oProj = child("o_proj", o);
            }
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
