package nvlm.api;

import java.io.IOException;
import java.nio.file.Path;

/** {@link TestFolders} for the server tests in another package. */
public final class TestFoldersAccess {
    private TestFoldersAccess() {
    }

    public static Path internVl(Path dir) throws IOException {
        return TestFolders.internVl(dir);
    }

    public static Path qwen2(Path dir) throws IOException {
        return TestFolders.qwen2(dir);
    }

    public static Path png(Path file, int w, int h, long seed) throws IOException {
        return TestFolders.png(file, w, h, seed);
    }

    public static byte[] pngBytes(Path dir, int w, int h, long seed) throws IOException {
        return TestFolders.pngBytes(dir, w, h, seed);
    }
}
