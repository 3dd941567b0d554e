package nvlm.model.config;

/**
 * The context length a model accepts ({@code llm.max_position_embeddings}, docs/model.md §5): a
 * sequence longer than it is refused before its activations, its O(T^2) attention or its KV cache
 * are allocated.
 */
public final class ContextLength {
    private ContextLength() {
    }

    /**
     * Fails when {@code tokens} (what {@code what} holds: a prompt and the tokens to generate, a
     * training batch's rows) exceed the context length of {@code config}.
     */
    public static void require(long tokens, NvlmConfig config, String what) {
        int max = config.llm().maxPositionEmbeddings();
        if (tokens > max) {
            throw new IllegalArgumentException(what + " needs " + tokens + " positions, more than the model's context length of "
                    + max + " (llm.max_position_embeddings in its config.json)");
        }
    }
}
