package nvlm.model.prompt;

/**
 * The chatml template of docs/model.md §6:
 * {@code <|im_start|>system\n{sys}<|im_end|><|im_start|>user\n{msg}<|im_end|><|im_start|>assistant\n{answer}<|im_end|>},
 * turns repeated for multi-turn chats, with no newline between a turn's {@code <|im_end|>} and the
 * next {@code <|im_start|>} (docs/model.md §6's form, a project decision, and InternVL's MPT
 * separator style) unless {@code turnSeparator} says otherwise: Qwen2's own template, used for bare
 * Qwen2 folders ({@link #qwen2}), puts a newline there.
 *
 * <p>The system block: a conversation's own system message if it starts with one; otherwise
 * {@link #defaultSystem()} if that is not null; otherwise no system block at all.
 */
public record ChatTemplate(String defaultSystem, String imageStart, String imageEnd, String turnSeparator) {
    /** Qwen2's default system prompt. */
    public static final String QWEN_DEFAULT_SYSTEM = "You are a helpful assistant.";
    public static final String IM_START = "<|im_start|>";
    public static final String IM_END = "<|im_end|>";
    public static final String IMAGE_START = "<Image>";
    public static final String IMAGE_END = "</Image>";

    /** NVLM-D-72B's {@code chat()} system prompt (template "chatml"). */
    public static final String NVLM_SYSTEM = "Answer the questions.";
    /** InternVL2's {@code chat()} system prompt (template "Hermes-2"). */
    public static final String INTERNVL_SYSTEM = "你是由上海人工智能实验室联合商汤科技开发的书生多模态大模型，英文名叫InternVL, 是一个有用无害的人工智能助手。";

    /** The project's template: images in {@code <Image>...</Image>}. */
    public ChatTemplate(String defaultSystem) {
        this(defaultSystem, IMAGE_START, IMAGE_END);
    }

    /** No text between a turn's {@code <|im_end|>} and the next {@code <|im_start|>} (MPT style). */
    public ChatTemplate(String defaultSystem, String imageStart, String imageEnd) {
        this(defaultSystem, imageStart, imageEnd, "");
    }

    /**
     * Qwen2's own chat template (a bare {@code Qwen2ForCausalLM} folder): ChatML with a newline after
     * each {@code <|im_end|>}; {@code defaultSystem} (null: none) is what the folder's
     * {@code chat_template} writes when the conversation has no system message ({@link #defaultSystemOf}).
     */
    public static ChatTemplate qwen2(String defaultSystem) {
        return new ChatTemplate(defaultSystem, IMAGE_START, IMAGE_END, "\n");
    }

    /** A literal system block in a Jinja chat template: {@code '<|im_start|>system\n...<|im_end|>'}, escaped or not. */
    private static final java.util.regex.Pattern LITERAL_SYSTEM = java.util.regex.Pattern.compile(
            "<\\|im_start\\|>system(?:\\\\n|\n)([^'\"+{}]*?)<\\|im_end\\|>");

    /**
     * The default system prompt a Jinja {@code chat_template} writes (Qwen2's: {@code You are a helpful
     * assistant.}; Qwen2.5's: {@code You are Qwen, created by Alibaba Cloud. ...}): the first system
     * block that is literal text; null when there is none or no template.
     */
    public static String defaultSystemOf(String chatTemplate) {
        if (chatTemplate == null) {
            return null;
        }
        java.util.regex.Matcher m = LITERAL_SYSTEM.matcher(chatTemplate);
        return m.find() ? m.group(1).replace("\\n", "\n") : null;
    }

    /**
     * The prompt a published folder's own {@code chat()} builds for its config's {@code template}
     * (both use InternVL's MPT separator style, which is this record's turn layout):
     * "chatml" (NVLM-D) wraps an image in {@code <Image>...</Image>} with tile tags inside;
     * "Hermes-2" (InternVL2) wraps it in {@code <img>...</img>}, no tags.
     */
    public static ChatTemplate published(String template) {
        return switch (template) {
            case "chatml" -> new ChatTemplate(NVLM_SYSTEM, IMAGE_START, IMAGE_END);
            case "Hermes-2" -> new ChatTemplate(INTERNVL_SYSTEM, "<img>", "</img>");
            default -> throw new IllegalArgumentException("prompt template '" + template + "' is not supported (chatml, Hermes-2)");
        };
    }

    /** This template with another default system prompt (null: none). */
    public ChatTemplate withDefaultSystem(String system) {
        return new ChatTemplate(system, imageStart, imageEnd, turnSeparator);
    }

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
