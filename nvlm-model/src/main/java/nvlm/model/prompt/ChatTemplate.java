package nvlm.model.prompt;

/**
 * The chatml template of docs/model.md §6:
 * {@code <|im_start|>system\n{sys}<|im_end|><|im_start|>user\n{msg}<|im_end|><|im_start|>assistant\n{answer}<|im_end|>},
 * turns repeated for multi-turn chats, with no newline between a turn's {@code <|im_end|>} and the
 * next {@code <|im_start|>} (docs/model.md §6's form, a project decision; Qwen's own template puts one there).
 *
 * <p>The system block: a conversation's own system message if it starts with one; otherwise
 * {@link #defaultSystem()} if that is not null; otherwise no system block at all.
 */
public record ChatTemplate(String defaultSystem) {
    /** Qwen2's default system prompt. */
    public static final String QWEN_DEFAULT_SYSTEM = "You are a helpful assistant.";
    public static final String IM_START = "<|im_start|>";
    public static final String IM_END = "<|im_end|>";
    public static final String IMAGE_START = "<Image>";
    public static final String IMAGE_END = "</Image>";

    /** The template with Qwen2's default system prompt. */
    public static ChatTemplate qwen() {
        return new ChatTemplate(QWEN_DEFAULT_SYSTEM);
    }

    /** No system block unless the conversation has a system message. */
    public static ChatTemplate withoutDefaultSystem() {
        return new ChatTemplate(null);
    }

    /** {@code <|im_start|>role\n}. */
    public static String turnStart(Role role) {
        return IM_START + role.chatml() + "\n";
    }
}
