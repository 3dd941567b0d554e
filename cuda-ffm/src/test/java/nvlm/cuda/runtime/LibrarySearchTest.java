package nvlm.cuda.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.booleans;

/** Library discovery over fake folder layouts (empty files: found, never loaded). */
class LibrarySearchTest {

    @TempDir
    Path root;

    private Path touch(String relative) throws IOException {
        Path file = root.resolve(relative);
        Files.createDirectories(file.getParent());
        return Files.createFile(file);
    }

    private LibrarySearch search(String property, Map<String, String> env) {
        return LibrarySearch.of(property, env, null, root);
    }

    @Test
    void overrideFolderWinsEvenWithAnOlderSoname() throws IOException {
        touch("usr/local/cuda/lib64/libcublas.so.13");
        Path override = touch("mine/libcublas.so.12");
        var found = search(root.resolve("mine").toString(), Map.of()).find(CudaLibrary.CUBLAS);
        assertEquals(Optional.of(override), found);
    }

    @Test
    void environmentOverrideIsSearchedWhenThePropertyIsUnset() throws IOException {
        touch("usr/lib/x86_64-linux-gnu/libcuda.so.1");
        Path override = touch("env/libcuda.so.1");
        var found = search(null, Map.of("NVLM_CUDA_LIBPATH", root.resolve("env").toString())).find(CudaLibrary.DRIVER);
        assertEquals(Optional.of(override), found);
    }

    @Test
    void newerSonameAnywhereBeatsOlderSonameEarlierInTheOrder() throws IOException {
        touch("usr/local/cuda-12.4/lib64/libcublasLt.so.12");
        Path wheel = touch("opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib/libcublasLt.so.13");
        assertEquals(Optional.of(wheel), search(null, Map.of()).find(CudaLibrary.CUBLAS_LT));
    }

    @Test
    void driverMountComesBeforeSystemFoldersAndLdLibraryPathBeforeBoth() throws IOException {
        Path mount = touch("usr/local/nvidia/lib64/libcuda.so.1");
        touch("usr/lib/x86_64-linux-gnu/libcuda.so.1");
        assertEquals(Optional.of(mount), search(null, Map.of()).find(CudaLibrary.DRIVER));
        Path ld = touch("ld/libcuda.so.1");
        var withLd = search(null, Map.of("LD_LIBRARY_PATH", "/nonexistent:" + root.resolve("ld")));
        assertEquals(Optional.of(ld), withLd.find(CudaLibrary.DRIVER));
    }

    @Test
    void plainCudaFolderFirstThenVersionedFoldersNewestFirst() throws IOException {
        Path older = touch("usr/local/cuda-12.4/targets/x86_64-linux/lib/libnvrtc.so.12");
        Path newer = touch("usr/local/cuda-12.10/lib64/libnvrtc.so.12");
        assertEquals(List.of(newer, older), search(null, Map.of()).candidates(CudaLibrary.NVRTC.sonames()));
        Path plain = touch("usr/local/cuda/lib64/libnvrtc.so.12");
        assertEquals(plain, search(null, Map.of()).candidates(CudaLibrary.NVRTC.sonames()).getFirst());
    }

    @Test
    void pythonWheelFoldersOfEverySitePackagesAreSearched() throws IOException {
        Path cu12 = touch("usr/local/lib/python3.11/dist-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12");
        assertEquals(Optional.of(cu12), search(null, Map.of()).find(CudaLibrary.NVRTC));
        Path debian = touch("usr/lib/python3/dist-packages/nvidia/cu13/lib/libnvrtc.so.13");
        assertEquals(Optional.of(debian), search(null, Map.of()).find(CudaLibrary.NVRTC));
        Path venv = root.resolve("venv");
        Path inVenv = touch("venv/lib/python3.13/site-packages/nvidia/cublas/lib/libcublas.so.12");
        assertEquals(Optional.of(inVenv), search(null, Map.of("VIRTUAL_ENV", venv.toString())).find(CudaLibrary.CUBLAS));
    }

    @Test
    void aFolderNamedTwiceIsSearchedOnceAtItsFirstPlace() {
        var search = LibrarySearch.of(null, Map.of("LD_LIBRARY_PATH", root.resolve("usr/lib64").toString()),
                root.resolve("usr/lib64").toString(), root);
        var origins = search.places().stream().filter(p -> p.directory().equals(root.resolve("usr/lib64")))
                .map(LibrarySearch.Place::origin).toList();
        assertEquals(List.of("java.library.path"), origins);
    }

    @Test
    void toolkitStubsAreNeverSearched() throws IOException {
        touch("usr/local/cuda/lib64/stubs/libcuda.so.1");
        touch("usr/local/cuda/targets/x86_64-linux/lib/stubs/libcuda.so.1");
        assertEquals(Optional.empty(), search(null, Map.of()).find(CudaLibrary.DRIVER));
    }

    @Test
    void descriptionListsEveryPlaceAndTheUnsetVariables() {
        String text = search(null, Map.of()).describe();
        assertTrue(text.contains(root.resolve("usr/local/nvidia/lib64") + " (standard folder, absent)"), text);
        assertTrue(text.contains(root.resolve("usr/local/cuda/lib64").toString()), text);
        assertTrue(text.contains("(LD_LIBRARY_PATH not set)"), text);
        assertTrue(text.contains("(NVLM_CUDA_LIBPATH not set)"), text);
        assertTrue(text.contains("(-Dnvlm.cuda.libpath not set)"), text);
    }

    @Test
    void notFoundMessageSaysHowToPointTheSearchElsewhere() {
        String message = CudaLibraries.notFoundMessage(CudaLibrary.DRIVER, search(null, Map.of()), List.of());
        assertTrue(message.startsWith("CUDA driver library not found: no libcuda.so.1 in any of"), message);
        assertTrue(message.contains("-Dnvlm.cuda.libpath=DIR"), message);
        assertTrue(message.contains("NVLM_CUDA_LIBPATH"), message);
        assertTrue(message.contains("ships with the NVIDIA driver"), message);
    }

    @Test
    void nvrtcBuiltinsOfTheSameMajorVersionAreFoundBesideNvrtc() throws IOException {
        Path builtins = touch("lib/libnvrtc-builtins.so.13.0");
        touch("lib/libnvrtc-builtins.so.12.6");
        touch("lib/libnvrtc.so.13");
        assertEquals(List.of(builtins), CudaLibraries.nvrtcBuiltins(root.resolve("lib"), "13"));
    }

    @Test
    void theFirstPlaceInSearchOrderHoldingTheLibraryWins() {
        List<String> folders = List.of("ld", "usr/local/nvidia/lib64", "usr/local/nvidia/lib", "usr/lib/x86_64-linux-gnu",
                "usr/lib64", "usr/local/cuda/lib64", "usr/local/cuda/targets/x86_64-linux/lib",
                "usr/local/cuda-13.0/lib64", "opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib",
                "usr/lib/python3/dist-packages/nvidia/cublas/lib");
        qt().withExamples(40).forAll(lists().of(booleans().all()).ofSize(folders.size())).checkAssert(holds -> {
            try {
                Path base = Files.createTempDirectory(root, "layout");
                var expected = new ArrayList<Path>();
                for (int i = 0; i < folders.size(); i++) {
                    if (holds.get(i)) {
                        Path file = base.resolve(folders.get(i)).resolve("libcublas.so.13");
                        Files.createDirectories(file.getParent());
                        expected.add(Files.createFile(file));
                    }
                }
                var search = LibrarySearch.of(null, Map.of("LD_LIBRARY_PATH", base.resolve("ld").toString()), null, base);
                assertEquals(expected, search.candidates(CudaLibrary.CUBLAS.sonames()));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
    }
}
