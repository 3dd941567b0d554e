package nvlm.cuda.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Compiled kernel images on disk, keyed by a SHA-256 of everything that determines the output:
 * source, options, NVRTC version and target architecture. Entries are written to a temporary file
 * in the same folder and renamed into place, so a reader never sees a partial image and concurrent
 * writers of the same key are harmless.
 *
 * <p>Folder: {@code -Dnvlm.cuda.kernelCache}, else {@code NVLM_KERNEL_CACHE}, else
 * {@code ~/.cache/nvlm/kernels}.
 */
public final class KernelCache {
    public static final String DIR_PROPERTY = "nvlm.cuda.kernelCache";
    public static final String DIR_ENV = "NVLM_KERNEL_CACHE";

    private final Path directory;

    public KernelCache(Path directory) {
        this.directory = directory;
    }

    public static KernelCache standard() {
        String dir = System.getProperty(DIR_PROPERTY, System.getenv(DIR_ENV));
        return new KernelCache(dir != null && !dir.isBlank() ? Path.of(dir)
                : Path.of(System.getProperty("user.home"), ".cache", "nvlm", "kernels"));
    }

    public Path directory() {
        return directory;
    }

    /** Hex SHA-256 over the length-prefixed fields, so no two different field lists collide by concatenation. */
    public static String key(String source, List<String> options, String nvrtcVersion, String arch) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            update(sha, "nvlm-kernel-cache-v1");
            update(sha, source);
            update(sha, Integer.toString(options.size()));
            options.forEach(o -> update(sha, o));
            update(sha, nvrtcVersion);
            update(sha, arch);
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }

    private static void update(MessageDigest sha, String field) {
        byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
        sha.update(java.nio.ByteBuffer.allocate(8).putLong(bytes.length).array());
        sha.update(bytes);
    }

    public Path path(String key) {
        return directory.resolve(key + ".bin");
    }

    /** The cached image, if present and readable. */
    public Optional<byte[]> load(String key) {
        Path file = path(key);
        try {
            return Files.isRegularFile(file) ? Optional.of(Files.readAllBytes(file)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Writes an image atomically (temp file + rename); throws naming the file when that fails. */
    public void store(String key, byte[] image) throws IOException {
        Files.createDirectories(directory);
        Path temp = Files.createTempFile(directory, key + ".", ".tmp");
        try {
            Files.write(temp, image);
            try {
                Files.move(temp, path(key), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, path(key), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            Files.deleteIfExists(temp);
            throw new IOException("cannot write kernel cache entry " + path(key) + ": " + e.getMessage(), e);
        }
    }
}
