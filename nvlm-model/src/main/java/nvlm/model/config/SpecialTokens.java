package nvlm.model.config;

import nvlm.model.tokenizer.ProjectTokenizer;

/**
 * The token ids config.json names under {@code tokens} (docs/model.md §10): the
 * image-context token ({@code <|vision_pad|>}), the padding token and {@code <|im_end|>}.
 */
public record SpecialTokens(int imageContext, int pad, int imEnd) {
    /** Qwen2.5's ids (docs/model.md §7, REFERENCE.md section 7). */
    public static SpecialTokens qwen2() {
        return new SpecialTokens(151654, 151643, 151645);
    }

    /** The project tokenizer's ids. */
    public static SpecialTokens project() {
        return new SpecialTokens(ProjectTokenizer.IMAGE_CONTEXT, ProjectTokenizer.PAD, ProjectTokenizer.IM_END);
    }
}
