package nvlm.trainer.data;

import java.io.IOException;

/** A data file that cannot be used; the message names the file, the record and the problem. */
public final class DataFormatException extends IOException {
    public DataFormatException(String message) {
        super(message);
    }

    public DataFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
