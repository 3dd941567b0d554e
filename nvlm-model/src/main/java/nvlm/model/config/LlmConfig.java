package nvlm.model.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Qwen2 decoder (docs/model.md §5). {@code maxPositionEmbeddings} is the context length: the
 * most tokens (prompt, image tokens and generated ones) one sequence may hold; Qwen2's 32768 unless
 * config.json's {@code llm.max_position_embeddings} says otherwise.
 */
public record LlmConfig(int hiddenSize, int numLayers, int numHeads, int numKvHeads, int intermediateSize,
                        int vocabSize, double rmsNormEps, double ropeTheta, boolean tieWordEmbeddings,
                        int maxPositionEmbeddings) {
    /** Qwen2's context length (its config.json's max_position_embeddings). */
    public static final int DEFAULT_MAX_POSITIONS = 32768;

    public LlmConfig(int hiddenSize, int numLayers, int numHeads, int numKvHeads, int intermediateSize, int vocabSize,
                     double rmsNormEps, double ropeTheta, boolean tieWordEmbeddings) {
        this(hiddenSize, numLayers, numHeads, numKvHeads, intermediateSize, vocabSize, rmsNormEps, ropeTheta, tieWordEmbeddings,
                DEFAULT_MAX_POSITIONS);
    }

    public LlmConfig {
        if (maxPositionEmbeddings < 1) {
            throw new IllegalArgumentException("llm.max_position_embeddings must be positive, got " + maxPositionEmbeddings);
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

    static LlmConfig read(ConfigReader r) {
        return new LlmConfig(r.positive("hidden_size"), r.positive("num_layers"), r.positive("num_heads"),
                r.positive("num_kv_heads"), r.positive("intermediate_size"), r.positive("vocab_size"),
                r.number("rms_norm_eps", 1e-6), r.number("rope_theta", 1e6), r.bool("tie_word_embeddings", false),
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
        m.put("max_position_embeddings", (long) maxPositionEmbeddings);
        return m;
    }
}
