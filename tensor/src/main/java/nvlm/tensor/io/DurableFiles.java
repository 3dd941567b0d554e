package nvlm.tensor.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Files that survive a crash or a power cut: written through a temporary sibling that is forced
 * to disk and renamed over the target, and the folder forced after the rename, so that after a
 * crash a file is either its old or its new contents, never empty or half written.
 */
public final class DurableFiles {
    private DurableFiles() {
    }

    /** Writes {@code text} (UTF-8) to {@code file} atomically and durably. */
    public static void writeString(Path file, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        SafetensorsWriter.writeAtomically(file, channel -> SafetensorsWriter.writeFully(channel, ByteBuffer.wrap(bytes)));
    }

    /**
     * Forces a file's contents, or a folder's entries (the names renamed or created in it), to
     * disk. Linux allows fsync on a folder; where opening one fails, the caller's renames are
     * still atomic, only their durability is best effort.
     */
    public static void force(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                channel.force(true);
            } catch (IOException unsupported) {
                // a file system that cannot open folders for reading
            }
            return;
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    /**
     * Deletes a file, a link (not what it points at) or a folder tree, deepest entries first;
     * nothing when {@code path} does not exist. Not forced: callers that need the deletion to be
     * durable force the parent folder.
     */
    public static void deleteTree(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Forces every file under {@code root}, then every folder, deepest first, {@code root} last. */
    public static void forceTree(Path root) throws IOException {
        List<Path> all;
        try (Stream<Path> walk = Files.walk(root)) {
            all = walk.sorted(Comparator.comparingInt(Path::getNameCount).reversed()).toList();
        }
        try {
            all.stream().filter(Files::isRegularFile).forEach(DurableFiles::forceUnchecked);
            all.stream().filter(Files::isDirectory).forEach(DurableFiles::forceUnchecked);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static void forceUnchecked(Path p) {
        try {
            force(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
