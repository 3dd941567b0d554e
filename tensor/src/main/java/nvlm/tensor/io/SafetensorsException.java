package nvlm.tensor.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file or checkpoint index that breaks the format (REFERENCE.md section 6), or a
 * tensor asked for that is not there. The message always names the file and, when one is
 * involved, the tensor.
 */
public final class SafetensorsException extends IOException {
    private final Path file;
    private final String tensor;

    public SafetensorsException(Path file, String tensor, String problem) {
        super(file + (tensor == null ? "" : ": tensor \"" + tensor + "\"") + ": " + problem);
        this.file = file;
        this.tensor = tensor;
    }

    public SafetensorsException(Path file, String problem) {
        this(file, null, problem);
    }

    public SafetensorsException(Path file, String problem, Throwable cause) {
        this(file, null, problem);
        initCause(cause);
    }

    public Path file() {
        return file;
    }

    /** The tensor the problem is about, or null when it is about the file as a whole. */
    public String tensor() {
        return tensor;
    }
}
