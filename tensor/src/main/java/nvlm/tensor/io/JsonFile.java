package nvlm.tensor.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Reading the project's small JSON files (config.json, trainer.json, world.json, data.json,
 * backbones.json) with errors that start with the file: missing, not UTF-8 (with the byte
 * offset, where the JDK says only "Input length = 1"), too large, or not the JSON expected.
 */
public final class JsonFile {
    /** Larger than any settings file: a 2 GB "config.json" is refused before it is read into memory. */
    public static final long MAX_BYTES = 64L << 20;

    private JsonFile() {
    }

    /** The file's text, decoded as strict UTF-8. */
    public static String readText(Path file) throws IOException {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file", e);
        }
        if (size > MAX_BYTES) {
            throw new IOException(file + ": " + size + " bytes, more than the " + (MAX_BYTES >> 20) + " MiB a settings file may have");
        }
        return decode(Files.readAllBytes(file), file.toString());
    }

    /** Strict UTF-8; an invalid sequence is reported with its byte offset. */
    public static String decode(byte[] bytes, String source) throws IOException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            throw new CharacterCodingException() {
                @Override
                public String getMessage() {
                    return source + ": not valid UTF-8 at byte " + in.position() + " (0x"
                            + String.format("%02x", bytes[in.position()] & 0xff) + ")";
                }
            };
        }
        decoder.flush(out);
        return out.flip().toString();
    }

    /** The file's top-level JSON object; every error names the file. */
    public static Map<String, Object> readObject(Path file) throws IOException {
        String text = readText(file);
        try {
            return Json.parseObject(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }
}
