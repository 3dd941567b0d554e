package nvlm.model.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Qwen2 decoder (docs/model.md §5). {@code ropeScalingFactor} > 1 with
 * {@code maxPositionEmbeddings} > 0 is Hugging Face's dynamic NTK RoPE scaling ({@code rope_scaling}
 * {@code {"type": "dynamic"}}, as NVLM-D-72B's config asks): inactive up to
 * {@code maxPositionEmbeddings} positions, beyond them the base grows with the sequence length
 * ({@link #ropeTheta(long)}); factor 1 and 0 positions mean no scaling.
 */
public record LlmConfig(int hiddenSize, int numLayers, int numHeads, int numKvHeads, int intermediateSize,
                        int vocabSize, double rmsNormEps, double ropeTheta, boolean tieWordEmbeddings,
                        double ropeScalingFactor, int maxPositionEmbeddings) {

    /** A decoder without RoPE scaling. */
    public LlmConfig(int hiddenSize, int numLayers, int numHeads, int numKvHeads, int intermediateSize,
                     int vocabSize, double rmsNormEps, double ropeTheta, boolean tieWordEmbeddings) {
        this(hiddenSize, numLayers, numHeads, numKvHeads, intermediateSize, vocabSize, rmsNormEps, ropeTheta,
                tieWordEmbeddings, 1.0, 0);
    }

    public LlmConfig {
        if (ropeScalingFactor < 1) {
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
     * The RoPE base for a sequence of {@code seqLen} positions: {@link #ropeTheta()} unless dynamic NTK
     * scaling is on and the sequence is longer than {@code maxPositionEmbeddings}; then
     * theta * (factor * seqLen / max - (factor - 1))^(dim / (dim - 2)), as transformers'
     * dynamic rotary embedding computes it.
     */
    public double ropeTheta(long seqLen) {
        if (ropeScalingFactor <= 1 || maxPositionEmbeddings <= 0 || seqLen <= maxPositionEmbeddings) {
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
                r.number("rope_scaling_factor", 1.0), r.integer("max_position_embeddings", 0));
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
            m.put("max_position_embeddings", (long) maxPositionEmbeddings);
        }
        return m;
    }
}
