package nvlm.model.tokenizer;

import java.io.IOException;

/** A tokenizer.json that cannot be used; the message names the file and the offending field. */
public final class TokenizerFormatException extends IOException {
    public TokenizerFormatException(String message) {
        super(message);
    }

    public TokenizerFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
