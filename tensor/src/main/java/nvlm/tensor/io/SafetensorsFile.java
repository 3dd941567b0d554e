package nvlm.tensor.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One .safetensors file, memory-mapped read-only. {@link #open} validates the whole header (see
 * {@link SafetensorsHeader}); tensor bytes are only touched when {@link #data} is read. Closing
 * unmaps the file at once, after which the segments handed out must not be used.
 *
 * <p>Only the project's dtypes (F32, BF16, F16, I32, I64) can be read: a file holding any other
 * tensor (F64, U8, BOOL, F8_*, ...) is rejected at open, naming that tensor and its dtype.
 * Thread-safe.
 */
public final class SafetensorsFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final SafetensorsHeader header;
    private final MemorySegment buffer;
    private final Map<String, TensorEntry> byName;
    private final Map<String, MemorySegment> alignedCopies = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** A view of {@code contents} (a whole file's bytes) that {@code arena} owns; closing this closes the arena. */
    SafetensorsFile(Path path, MemorySegment contents, Arena arena) throws SafetensorsException {
        this.path = path;
        this.arena = arena;
        this.header = SafetensorsHeader.read(path, contents);
        this.buffer = contents.asSlice(header.dataStart()).asReadOnly();
        Map<String, TensorEntry> map = new LinkedHashMap<>();
        for (TensorEntry entry : header.entries()) {
            map.put(entry.name(), entry);
        }
        this.byName = map;
    }

    /** Maps {@code file} and validates its header; SafetensorsException names what is wrong. */
    public static SafetensorsFile open(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new SafetensorsException(file, "is a directory, not a .safetensors file");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment contents = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            return new SafetensorsFile(file, contents.asReadOnly(), arena);
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** The header's {@code __metadata__} (string to string); empty when there is none. */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** Every tensor, in the order the header lists them. */
    public List<TensorEntry> entries() {
        return header.entries();
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    public TensorEntry entry(String name) throws SafetensorsException {
        TensorEntry entry = byName.get(name);
        if (entry == null) {
            throw new SafetensorsException(path, name, "no such tensor in the file (" + byName.size() + " tensors)");
        }
        return entry;
    }

    /**
     * The tensor's bytes (little-endian, row-major), read-only and aligned to its element size. It
     * is a zero-copy slice of the mapping whenever the file keeps tensors naturally aligned, as
     * every writer since safetensors 0.3 does; a misaligned tensor is copied once into memory this
     * file owns. Valid until {@link #close}.
     */
    public MemorySegment data(String name) throws SafetensorsException {
        TensorEntry entry = entry(name);
        if (closed) {
            throw new IllegalStateException(path + " is closed; cannot read tensor \"" + name + "\"");
        }
        MemorySegment slice = buffer.asSlice(entry.begin(), entry.byteSize());
        int alignment = entry.dtype().byteSize();
        if (slice.address() % alignment == 0) {
            return slice;
        }
        return alignedCopies.computeIfAbsent(name, unused -> {
            MemorySegment copy = arena.allocate(slice.byteSize(), alignment);
            copy.copyFrom(slice);
            return copy.asReadOnly();
        });
    }

    /** Unmaps the file. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + byName.size() + " tensors]";
    }
}
