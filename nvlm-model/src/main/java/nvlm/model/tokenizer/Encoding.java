package nvlm.model.tokenizer;

/**
 * The result of encoding a text: token ids and, per token, the span {@code [start, end)} of the
 * input text (UTF-16 indices) it came from. A character that NFC changed maps to the whole
 * changed run; tokens holding part of a character's bytes share that character's span.
 */
public record Encoding(int[] ids, int[] starts, int[] ends) {
    public Encoding {
        if (ids.length != starts.length || ids.length != ends.length) {
            throw new IllegalArgumentException("ids, starts and ends differ in length: " + ids.length + ", "
                    + starts.length + ", " + ends.length);
        }
    }

    public int size() {
        return ids.length;
    }
}
