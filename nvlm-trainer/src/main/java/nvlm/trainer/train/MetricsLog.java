package nvlm.trainer.train;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import nvlm.tensor.io.Json;

/**
 * {@code metrics.jsonl}: one JSON object per line, written straight to the file as it happens so
 * a crash of the process loses nothing already logged. A checkpoint records the file's length;
 * resuming cuts the file back to it, so the log of a resumed run has exactly the records of an
 * uninterrupted one (timings aside).
 *
 * <p>Records (field {@code type}): {@code train} (one per step: stage, step, loss, lr, grad_norm,
 * tokens, labelled_tokens, samples, seconds, samples_per_s, tokens_per_s; for NVLM-X and -H also
 * tanh_attn_gate and tanh_ff_gate, one value per cross-attention block), {@code eval} (stage,
 * step, accuracy: family to value in [0, 1]) and {@code stop} (stage, step, reason, message).
 */
public final class MetricsLog implements Closeable {
    public static final String FILE = "metrics.jsonl";

    private final Path file;
    private final FileChannel channel;

    private MetricsLog(Path file, FileChannel channel) {
        this.file = file;
        this.channel = channel;
    }

    /** Opens {@code file} for appending after cutting it to {@code length} bytes (0 starts afresh). */
    public static MetricsLog open(Path file, long length) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        if (channel.size() < length) {
            long size = channel.size();
            channel.close();
            throw new IOException(file + ": metrics log has " + size + " bytes but the checkpoint recorded " + length
                    + "; was it edited or replaced?");
        }
        channel.truncate(length);
        channel.position(length);
        return new MetricsLog(file, channel);
    }

    /**
     * A log that writes nothing: what the ranks other than 0 of a data-parallel run hold, so that
     * the run folder has one metrics file, as a single process's has.
     */
    public static MetricsLog none(Path file) {
        return new MetricsLog(file, null);
    }

    public Path file() {
        return file;
    }

    /** Appends one record as a line; the channel is unbuffered, so the line is in the file when this returns. */
    public void append(Map<String, Object> record) throws IOException {
        if (channel == null) {
            return;
        }
        ByteBuffer line = ByteBuffer.wrap((Json.write(record) + "\n").getBytes(StandardCharsets.UTF_8));
        while (line.hasRemaining()) {
            channel.write(line);
        }
    }

    /** Bytes written so far: what a checkpoint stores. */
    public long length() throws IOException {
        return channel == null ? 0 : channel.position();
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
        }
    }

    /** Every record of a metrics file, in order; a malformed line is an error naming the file and line. */
    public static List<Map<String, Object>> read(Path file) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        int lineNumber = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            try {
                out.add(Json.parseObject(line));
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ":" + lineNumber + ": not a JSON object: " + e.getMessage(), e);
            }
        }
        return out;
    }
}
