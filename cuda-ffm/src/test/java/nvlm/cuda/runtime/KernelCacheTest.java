package nvlm.cuda.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KernelCacheTest {

    @TempDir
    Path dir;

    private static final String SOURCE = "extern \"C\" __global__ void k(float* x) { x[0] = 1; }";
    private static final List<String> OPTIONS = List.of("--gpu-architecture=sm_90", "--std=c++17");

    @Test
    void keysAreStableHexDigests() {
        String key = KernelCache.key(SOURCE, OPTIONS, "13.0", "sm_90");
        assertEquals(key, KernelCache.key(SOURCE, List.copyOf(OPTIONS), "13.0", "sm_90"));
        assertTrue(key.matches("[0-9a-f]{64}"), key);
    }

    @Test
    void everyFieldChangesTheKey() {
        var keys = new HashSet<String>();
        keys.add(KernelCache.key(SOURCE, OPTIONS, "13.0", "sm_90"));
        keys.add(KernelCache.key(SOURCE + " ", OPTIONS, "13.0", "sm_90"));
        keys.add(KernelCache.key(SOURCE, List.of("--gpu-architecture=sm_90"), "13.0", "sm_90"));
        keys.add(KernelCache.key(SOURCE, OPTIONS, "13.1", "sm_90"));
        keys.add(KernelCache.key(SOURCE, OPTIONS, "13.0", "sm_100"));
        assertEquals(5, keys.size());
    }

    @Test
    void fieldBoundariesCannotBeShiftedIntoACollision() {
        assertNotEquals(KernelCache.key("s", List.of("a", "b"), "13.0", "sm_90"),
                KernelCache.key("s", List.of("ab"), "13.0", "sm_90"));
        assertNotEquals(KernelCache.key("s", List.of("a"), "13.0", "sm_90"),
                KernelCache.key("sa", List.of(), "13.0", "sm_90"));
        assertNotEquals(KernelCache.key("s", List.of(), "13.0x", "sm_90"),
                KernelCache.key("s", List.of(), "13.0", "xsm_90"));
    }

    @Test
    void storedImagesLoadBackAndLeaveNoTemporaryFiles() throws IOException {
        var cache = new KernelCache(dir.resolve("nested/kernels"));
        String key = KernelCache.key(SOURCE, OPTIONS, "13.0", "sm_90");
        assertTrue(cache.load(key).isEmpty());
        byte[] image = {0x7f, 'E', 'L', 'F', 1, 2, 3};
        cache.store(key, image);
        assertArrayEquals(image, cache.load(key).orElseThrow());
        byte[] replacement = {0x7f, 'E', 'L', 'F', 9};
        cache.store(key, replacement);
        assertArrayEquals(replacement, cache.load(key).orElseThrow());
        try (var files = Files.list(cache.directory())) {
            assertEquals(List.of(cache.path(key)), files.toList());
        }
    }

    @Test
    void concurrentWritersOfOneKeyLeaveOneCompleteImage() throws Exception {
        var cache = new KernelCache(dir);
        String key = KernelCache.key(SOURCE, OPTIONS, "13.0", "sm_90");
        var images = new ArrayList<byte[]>();
        for (int i = 0; i < 8; i++) {
            byte[] image = new byte[200_000];
            java.util.Arrays.fill(image, (byte) i);
            images.add(image);
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            var futures = new ArrayList<Future<?>>();
            for (byte[] image : images) {
                futures.add(pool.submit(() -> {
                    cache.store(key, image);
                    byte[] read = cache.load(key).orElseThrow();
                    // Whatever a reader sees is one writer's whole image, never a mix or a prefix.
                    assertEquals(200_000, read.length);
                    assertTrue(images.stream().anyMatch(im -> java.util.Arrays.equals(im, read)));
                    return null;
                }));
            }
            for (var f : futures) {
                f.get();
            }
        }
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "temporary files were renamed or removed");
        }
    }

    @Test
    void anUnwritableCacheFolderIsReportedWithItsPath() throws IOException {
        Path file = Files.createFile(dir.resolve("not-a-folder"));
        var cache = new KernelCache(file.resolve("kernels"));
        var error = assertThrows(IOException.class, () -> cache.store("abc", new byte[] {1}));
        assertTrue(error.getMessage() != null && error.getMessage().contains("not-a-folder"), String.valueOf(error));
    }

    @Test
    void targetIsACubinForSupportedArchitecturesAndPtxOtherwise() {
        int[] supported = {75, 80, 86, 87, 89, 90, 100, 103, 110, 120, 121};
        assertEquals("sm_90", Nvrtc.target(90, supported));
        assertEquals("sm_120", Nvrtc.target(120, supported));
        assertEquals("compute_90", Nvrtc.target(95, supported), "newer than NVRTC: PTX the driver JITs forward");
        assertEquals("compute_121", Nvrtc.target(130, supported));
        assertThrows(IllegalArgumentException.class, () -> Nvrtc.target(70, supported));
        assertEquals(List.of("--gpu-architecture=sm_90", "--std=c++17", "-lineinfo"),
                Nvrtc.options("sm_90", List.of("-lineinfo")));
    }
}
