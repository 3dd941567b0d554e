package nvlm.model.tokenizer;

import java.io.ByteArrayOutputStream;

/**
 * Text to token ids and back. Special and added tokens (e.g. {@code <|im_end|>}) are split out of
 * the text before anything else, so their text always becomes their single id.
 */
public interface Tokenizer {
    /** Token ids of {@code text} with each token's span in {@code text}. */
    Encoding encodeWithOffsets(String text);

    /**
     * {@link #encodeWithOffsets(String)}, with the characters set in {@code literal} encoded as
     * plain text: an added token's text there is not its id (what Hugging Face calls
     * {@code split_special_tokens=True}, and tiktoken's default for user text).
     */
    Encoding encodeWithOffsets(String text, java.util.BitSet literal);

    default int[] encode(String text) {
        return encodeWithOffsets(text).ids();
    }

    /** The bytes token {@code id} stands for (what decoding emits for it). */
    byte[] tokenBytes(int id);

    /**
     * The text of {@code ids}: their bytes concatenated and decoded as UTF-8, invalid sequences
     * replaced by U+FFFD (like Hugging Face's {@code decode(ids, skip_special_tokens=False)}).
     */
    default String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) {
            bytes.writeBytes(tokenBytes(id));
        }
        return Utf8.decodeLossy(bytes.toByteArray());
    }

    /** A decoder for generation that holds back bytes of a character split across tokens. */
    default StreamingDecoder streamingDecoder() {
        return new StreamingDecoder(this);
    }

    /** The id of a special or ordinary token given by its exact text; an error if there is none. */
    int tokenId(String token);

    /** Whether {@code token} is one token of the vocabulary (special, added or ordinary). */
    boolean hasToken(String token);

    /** Whether {@code id} is an added (special) token, which encoding cuts out of any text before anything else. */
    boolean isAddedToken(int id);

    /** The vocabulary string of {@code id} (for added tokens, their content). */
    String idToToken(int id);

    /** One past the largest id. */
    int vocabSize();
}
