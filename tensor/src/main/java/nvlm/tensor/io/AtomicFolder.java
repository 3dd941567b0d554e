package nvlm.tensor.io;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A folder that is replaced as a whole: a kill -9 (or a power cut) at any moment of a
 * {@link #replace} leaves {@code target} naming either the old complete folder or the new complete
 * one, never a missing or half-written one.
 *
 * <p>{@code target} (say {@code RUN/model}) is a relative symbolic link to a hidden sibling
 * {@code .model-N} holding the contents. A replace writes {@code .model-N+1} and forces it to disk,
 * makes a new link beside the target and renames it over the target: one rename(2), which POSIX
 * makes atomic, switches every reader from the old folder to the new one. The old version is
 * deleted afterwards; versions no link points at (a replace killed before its rename) are removed
 * by the next replace. Readers need nothing special: opening {@code target} follows the link.
 *
 * <p>A target that is still a real folder (written by a build before this one) cannot have a link
 * renamed over it: it is first renamed to {@code .model-0}, and if a kill lands between that
 * rename and the link's, the next replace links {@code .model-0} back before anything else. On a
 * file system without symbolic links the new version is renamed into place after the old one is
 * moved aside (two renames, the window this class otherwise closes), and said so in the result.
 */
public final class AtomicFolder {
    /** What a replace had to do. */
    public enum Outcome {
        /** The link was switched by one rename. */
        LINKED,
        /** No symbolic links on this file system: the old folder was moved aside, then the new one renamed in. */
        RENAMED_TWICE
    }

    /** Writes the contents of a folder. */
    @FunctionalInterface
    public interface Contents {
        void writeTo(Path folder) throws IOException;
    }

    private AtomicFolder() {
    }

    /**
     * Replaces {@code target} by a folder that {@code contents} writes (into a fresh hidden
     * sibling), forced to disk before the switch.
     */
    public static Outcome replace(Path target, Contents contents) throws IOException {
        Path parent = target.toAbsolutePath().getParent();
        String name = target.getFileName().toString();
        Files.createDirectories(parent);
        recoverLegacy(parent, name);
        int next = 1;
        for (Path v : versions(parent, name)) {
            next = Math.max(next, number(v, name) + 1);
        }
        Path version = parent.resolve(versionName(name, next));
        Files.createDirectories(version);
        contents.writeTo(version);
        DurableFiles.forceTree(version);
        DurableFiles.force(parent);

        Path link = parent.resolve("." + name + ".link");
        Files.deleteIfExists(link);
        try {
            Files.createSymbolicLink(link, Path.of(version.getFileName().toString()));
        } catch (UnsupportedOperationException | FileSystemException noLinks) {
            return renameTwice(target, version, parent);
        }
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            // A real folder from an older build: a link cannot be renamed over it.
            Path legacy = parent.resolve(versionName(name, 0));
            DurableFiles.deleteTree(legacy);
            Files.move(target, legacy, StandardCopyOption.ATOMIC_MOVE);
            DurableFiles.force(parent);
        }
        Files.move(link, target, StandardCopyOption.ATOMIC_MOVE);
        DurableFiles.force(parent);
        for (Path v : versions(parent, name)) {
            if (!v.equals(version)) {
                DurableFiles.deleteTree(v);
            }
        }
        DurableFiles.deleteTree(parent.resolve("." + name + ".old")); // left by a two-rename replace that was killed
        return Outcome.LINKED;
    }

    /** Removes {@code target} (the link, or a real folder) and every version of it. */
    public static void delete(Path target) throws IOException {
        Path parent = target.toAbsolutePath().getParent();
        String name = target.getFileName().toString();
        DurableFiles.deleteTree(target);
        Files.deleteIfExists(parent.resolve("." + name + ".link"));
        if (Files.isDirectory(parent)) {
            for (Path v : versions(parent, name)) {
                DurableFiles.deleteTree(v);
            }
        }
    }

    /** A replace killed between moving a real folder to version 0 and the link's rename: link version 0 back. */
    private static void recoverLegacy(Path parent, String name) throws IOException {
        Path target = parent.resolve(name);
        Path legacy = parent.resolve(versionName(name, 0));
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) || !Files.isDirectory(legacy, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Path link = parent.resolve("." + name + ".link");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, Path.of(legacy.getFileName().toString()));
        Files.move(link, target, StandardCopyOption.ATOMIC_MOVE);
        DurableFiles.force(parent);
    }

    private static Outcome renameTwice(Path target, Path version, Path parent) throws IOException {
        Path old = parent.resolve("." + target.getFileName() + ".old");
        DurableFiles.deleteTree(old);
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(version, target, StandardCopyOption.ATOMIC_MOVE);
        DurableFiles.force(parent);
        DurableFiles.deleteTree(old);
        return Outcome.RENAMED_TWICE;
    }

    private static String versionName(String name, int n) {
        return "." + name + "-" + n;
    }

    /** The version number of {@code v}, or -1 when it is not one of {@code name}'s versions. */
    private static int number(Path v, String name) {
        String file = v.getFileName().toString();
        String prefix = "." + name + "-";
        if (!file.startsWith(prefix) || file.length() == prefix.length() || file.length() - prefix.length() > 9) {
            return -1;
        }
        for (int i = prefix.length(); i < file.length(); i++) {
            if (file.charAt(i) < '0' || file.charAt(i) > '9') {
                return -1;
            }
        }
        return Integer.parseInt(file.substring(prefix.length()));
    }

    private static List<Path> versions(Path parent, String name) throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> list = Files.list(parent)) {
            list.filter(p -> number(p, name) >= 0 && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).forEach(out::add);
        }
        return out;
    }
}
