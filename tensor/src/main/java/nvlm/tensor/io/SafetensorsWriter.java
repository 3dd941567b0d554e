package nvlm.tensor.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import nvlm.kernels.DType;

/** Writes .safetensors files the way the Rust writer lays them out, atomically. */
public final class SafetensorsWriter {
    private static final int CHUNK = 1 << 20;

    private SafetensorsWriter() {
    }

    /**
     * Writes {@code tensors} to {@code file}: into a temporary file in the same directory, forced
     * to disk, then renamed over {@code file}, so readers see the old file or the whole new one and
     * a failure leaves no partial file behind. Tensors go in the Rust writer's order (dtype widest
     * first, then name) after a header padded to a multiple of 8, so each one is naturally aligned.
     *
     * @param metadata the header's {@code __metadata__}; null or empty writes none
     * @throws IllegalArgumentException naming the tensor when two share a name or one is named
     *     {@code __metadata__}
     */
    public static void write(Path file, Map<String, String> metadata, List<TensorData> tensors) throws IOException {
        checkMetadata(metadata);
        checkNames(tensors);
        List<TensorData> ordered = new ArrayList<>(tensors);
        ordered.sort(RUST_ORDER);
        List<TensorEntry> entries = new ArrayList<>(ordered.size());
        long offset = 0;
        for (TensorData tensor : ordered) {
            long end = offset + tensor.data().byteSize();
            entries.add(new TensorEntry(tensor.name(), tensor.dtype(), tensor.shape(), offset, end));
            offset = end;
        }
        byte[] header = SafetensorsHeader.encode(metadata, entries);
        int chunkSize = (int) Math.min(CHUNK, Math.max(1, offset));
        writeAtomically(file, channel -> {
            writeFully(channel, ByteBuffer.wrap(header));
            byte[] chunk = new byte[chunkSize];
            MemorySegment chunkSegment = MemorySegment.ofArray(chunk);
            for (TensorData tensor : ordered) {
                MemorySegment data = tensor.data();
                for (long at = 0; at < data.byteSize(); at += chunk.length) {
                    int length = (int) Math.min(chunk.length, data.byteSize() - at);
                    MemorySegment.copy(data, at, chunkSegment, 0, length);
                    writeFully(channel, ByteBuffer.wrap(chunk, 0, length));
                }
            }
        });
    }

    /**
     * The Rust writer sorts by its Dtype enum, descending, whose order is by width and within a
     * width F16 < BF16, I32 < F32; then by name, compared as UTF-8 bytes (code point order).
     */
    static final Comparator<TensorData> RUST_ORDER = Comparator
            .comparingInt((TensorData t) -> -rustDtypeRank(t.dtype()))
            .thenComparing(TensorData::name, SafetensorsWriter::compareCodePoints);

    private static int rustDtypeRank(DType dtype) {
        return switch (dtype) {
            case BOOL -> -1;
            case F16 -> 0;
            case BF16 -> 1;
            case I32 -> 2;
            case F32 -> 3;
            case I64 -> 4;
        };
    }

    private static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    static void checkNames(List<TensorData> tensors) {
        Set<String> seen = new HashSet<>();
        for (TensorData tensor : tensors) {
            if (tensor.name().equals(SafetensorsHeader.METADATA_KEY)) {
                throw new IllegalArgumentException("tensor \"" + tensor.name() + "\": the name is reserved for the header's metadata");
            }
            if (!seen.add(tensor.name())) {
                throw new IllegalArgumentException("tensor \"" + tensor.name() + "\": two tensors have this name");
            }
        }
    }

    private static void checkMetadata(Map<String, String> metadata) {
        if (metadata == null) {
            return;
        }
        for (Map.Entry<String, String> item : metadata.entrySet()) {
            if (item.getKey() == null || item.getValue() == null) {
                throw new IllegalArgumentException("metadata holds a null key or value: " + item.getKey() + "=" + item.getValue());
            }
        }
    }

    /** What writes a file's contents into its temporary file. */
    @FunctionalInterface
    interface Contents {
        void writeTo(FileChannel channel) throws IOException;
    }

    /**
     * Writes a file through a temporary sibling, forced to disk, renamed over {@code file}; on any
     * failure the temporary file is deleted and {@code file} is left as it was.
     */
    static void writeAtomically(Path file, Contents contents) throws IOException {
        Path target = file.toAbsolutePath();
        Path directory = target.getParent();
        Path temporary = createTemporarySibling(target);
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                contents.writeTo(channel);
                channel.force(true);
            }
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException | Error failure) {
            try {
                Files.deleteIfExists(temporary);
            } catch (IOException cleanup) {
                failure.addSuppressed(cleanup);
            }
            throw failure;
        }
        forceDirectory(directory);
    }

    /** Created with the default permissions (createTempFile would make it owner-only, and the rename would keep that). */
    private static Path createTemporarySibling(Path target) throws IOException {
        while (true) {
            Path temporary = target.resolveSibling("." + target.getFileName() + "."
                    + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return temporary;
            } catch (FileAlreadyExistsException taken) {
                // another writer picked the same random name: try another
            }
        }
    }

    /** Makes the rename itself durable. Linux allows fsync on a directory; where opening one fails, the rename is still atomic. */
    private static void forceDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException unsupported) {
            // durability of the directory entry is best effort here
        }
    }

    static void writeFully(FileChannel channel, ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }
}
