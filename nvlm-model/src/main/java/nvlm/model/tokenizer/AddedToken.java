package nvlm.model.tokenizer;

/**
 * An entry of tokenizer.json's {@code added_tokens}: matched in the text before the model sees
 * it. {@code normalized=false} tokens are matched in the raw text, {@code normalized=true} ones
 * after normalization; {@code lstrip}/{@code rstrip} absorb whitespace on that side;
 * {@code singleWord} only matches when not inside a word.
 */
public record AddedToken(int id, String content, boolean singleWord, boolean lstrip, boolean rstrip, boolean normalized,
                         boolean special) {
    public AddedToken {
        if (content == null || content.isEmpty()) {
            throw new IllegalArgumentException("added token " + id + " has empty content");
        }
        if (id < 0) {
            throw new IllegalArgumentException("added token '" + content + "' has negative id " + id);
        }
    }

    /** A special token as the project writes them: exact match, not normalized. */
    public static AddedToken special(int id, String content) {
        return new AddedToken(id, content, false, false, false, false, true);
    }
}
