package nvlm.model.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Qwen2 decoder (docs/model.md §5). {@code maxPositionEmbeddings} is the trained context length
 * (config.json's {@code llm.max_position_embeddings}, Qwen2's 32768 when absent). {@code ropeScalingFactor}
 * > 1 is Hugging Face's dynamic NTK RoPE scaling ({@code rope_scaling} {@code {"type": "dynamic"}}, as
 * NVLM-D-72B's config asks): inactive up to {@code maxPositionEmbeddings} positions, beyond them the base
 * grows with the sequence length ({@link #ropeTheta(long)}); factor 1 means no scaling. The context
 * length, the most tokens (prompt, image tokens and generated ones) one sequence may hold, is
 * {@link #contextLength()}.
 */
public record LlmConfig(int hiddenSize, int numLayers, int numHeads, int numKvHeads, int intermediateSize,
                        int vocabSize, double rmsNormEps, double ropeTheta, boolean tieWordEmbeddings,
                        double ropeScalingFactor, int maxPositionEmbeddings) {
    /** Qwen2's context length (its config.json's max_position_embeddings). */
    public static final int DEFAULT_MAX_POSITIONS = 32768;

    /** A decoder without RoPE scaling and Qwen2's context length. */
    public LlmConfig(int hiddenSize, int numLayers, int numHeads, int numKvHeads, int intermediateSize,
                     int vocabSize, double rmsNormEps, double ropeTheta, boolean tieWordEmbeddings) {
        this(hiddenSize, numLayers, numHeads, numKvHeads, intermediateSize, vocabSize, rmsNormEps, ropeTheta,
                tieWordEmbeddings, 1.0, DEFAULT_MAX_POSITIONS);
    }

    public LlmConfig {
        if (maxPositionEmbeddings < 1) {
            throw new IllegalArgumentException("llm.max_position_embeddings must be positive, got " + maxPositionEmbeddings);
        }
        if (!(ropeScalingFactor >= 1)) {
            throw new IllegalArgumentException("llm.rope_scaling.factor " + ropeScalingFactor + " must be at least 1");
        }
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("llm.hidden_size " + hiddenSize + " is not a multiple of llm.num_heads " + numHeads);
        }
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("llm.num_heads " + numHeads + " is not a multiple of llm.num_kv_heads " + numKvHeads);
        }
        if ((hiddenSize / numHeads) % 2 != 0) {
            throw new IllegalArgumentException("llm head dim " + hiddenSize / numHeads + " must be even (RoPE rotate-half)");
        }
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** This decoder with another vocabulary size. */
    public LlmConfig withVocabSize(int vocab) {
        return new LlmConfig(hiddenSize, numLayers, numHeads, numKvHeads, intermediateSize, vocab, rmsNormEps, ropeTheta,
                tieWordEmbeddings, ropeScalingFactor, maxPositionEmbeddings);
    }

    /**
     * The most positions one sequence may hold: {@code maxPositionEmbeddings}, times the factor when
     * dynamic NTK scaling is on (the factor is the extended length over the trained one).
     */
    public int contextLength() {
        return (int) Math.min(Integer.MAX_VALUE, (long) Math.floor(ropeScalingFactor * maxPositionEmbeddings));
    }

    /**
     * The RoPE base for a sequence of {@code seqLen} positions: {@link #ropeTheta()} unless dynamic NTK
     * scaling is on and the sequence is longer than {@code maxPositionEmbeddings}; then
     * theta * (factor * seqLen / max - (factor - 1))^(dim / (dim - 2)), as transformers'
     * dynamic rotary embedding computes it.
     */
    public double ropeTheta(long seqLen) {
        if (ropeScalingFactor <= 1 || seqLen <= maxPositionEmbeddings) {
            return ropeTheta;
        }
        double dim = headDim();
        return ropeTheta * Math.pow(ropeScalingFactor * seqLen / maxPositionEmbeddings - (ropeScalingFactor - 1),
                dim / (dim - 2));
    }

    static LlmConfig read(ConfigReader r) {
        return new LlmConfig(r.positive("hidden_size"), r.positive("num_layers"), r.positive("num_heads"),
                r.positive("num_kv_heads"), r.positive("intermediate_size"), r.positive("vocab_size"),
                r.number("rms_norm_eps", 1e-6), r.number("rope_theta", 1e6), r.bool("tie_word_embeddings", false),
                r.number("rope_scaling_factor", 1.0),
                r.has("max_position_embeddings") ? r.positive("max_position_embeddings") : DEFAULT_MAX_POSITIONS);
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("hidden_size", (long) hiddenSize);
        m.put("num_layers", (long) numLayers);
        m.put("num_heads", (long) numHeads);
        m.put("num_kv_heads", (long) numKvHeads);
        m.put("intermediate_size", (long) intermediateSize);
        m.put("vocab_size", (long) vocabSize);
        m.put("rms_norm_eps", rmsNormEps);
        m.put("rope_theta", ropeTheta);
        m.put("tie_word_embeddings", tieWordEmbeddings);
        if (ropeScalingFactor > 1) {
            m.put("rope_scaling_factor", ropeScalingFactor);
        }
        m.put("max_position_embeddings", (long) maxPositionEmbeddings);
        return m;
    }
}
