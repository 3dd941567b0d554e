package nvlm.cuda.runtime;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds and loads the CUDA libraries on first use ({@link LibrarySearch} says where), once per
 * process, with {@link System#load}: the generated bindings look their symbols up in the libraries
 * loaded by this class loader ({@code SymbolLookup.loaderLookup()}), so the binding classes load
 * without CUDA and every runtime entry point ({@link Cuda#init}, {@link Nvrtc}, {@link Cublas#create})
 * calls {@link #require} before its first binding call. A library that cannot be found stays not
 * found: every later call throws the same {@link CudaLibraryNotFoundException} without searching
 * again.
 *
 * <p>cuBLAS is loaded after the cuBLASLt of its own folder, and NVRTC after the
 * {@code libnvrtc-builtins} beside it, so that their own dlopen/DT_NEEDED lookups find the
 * already-loaded copies by soname. After the search, the dynamic loader is asked for the bare
 * soname (its own cache and rules), and the file it picked is loaded the same way.
 */
public final class CudaLibraries {
    private static final Map<CudaLibrary, String> LOADED = new EnumMap<>(CudaLibrary.class);
    private static final Map<CudaLibrary, String> FAILED = new EnumMap<>(CudaLibrary.class);

    private CudaLibraries() {
    }

    /** Loads the library (once); throws when it cannot be found or loaded. */
    public static synchronized void require(CudaLibrary library) {
        if (LOADED.containsKey(library)) {
            return;
        }
        String failure = FAILED.get(library);
        if (failure != null) {
            throw new CudaLibraryNotFoundException(library, failure);
        }
        LibrarySearch search = LibrarySearch.standard();
        var problems = new ArrayList<String>();
        for (Path file : search.candidates(library.sonames())) {
            try {
                loadCompanions(library, file);
                System.load(file.toString());
                LOADED.put(library, file.toString());
                return;
            } catch (RuntimeException | UnsatisfiedLinkError e) {
                problems.add("  " + file + " exists but did not load: " + e.getMessage());
            }
        }
        for (String soname : library.sonames()) {
            try {
                Path file = resolvedByTheDynamicLoader(library, soname);
                System.load(file.toString());
                LOADED.put(library, file + " (the dynamic loader's " + soname + ")");
                return;
            } catch (RuntimeException | UnsatisfiedLinkError | IOException e) {
                problems.add("  dynamic loader: " + soname + ": " + e.getMessage());
            }
        }
        String message = notFoundMessage(library, search, problems);
        FAILED.put(library, message);
        throw new CudaLibraryNotFoundException(library, message);
    }

    /** Whether the library can be loaded (loads it if so). */
    public static boolean isAvailable(CudaLibrary library) {
        return unavailableReason(library).isEmpty();
    }

    /** Why the library is unavailable, or empty when it loads. */
    public static Optional<String> unavailableReason(CudaLibrary library) {
        try {
            require(library);
            return Optional.empty();
        } catch (CudaLibraryNotFoundException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** Where a loaded library came from. */
    public static synchronized Optional<String> location(CudaLibrary library) {
        return Optional.ofNullable(LOADED.get(library));
    }

    /** cuBLAS needs its cuBLASLt, NVRTC its builtins: load those from the same folder first. */
    private static void loadCompanions(CudaLibrary library, Path file) {
        String major = file.getFileName().toString().replaceAll(".*\\.so\\.", "");
        Path folder = file.getParent();
        switch (library) {
            case CUBLAS -> {
                Path lt = folder.resolve("libcublasLt.so." + major);
                if (Files.isRegularFile(lt) && !LOADED.containsKey(CudaLibrary.CUBLAS_LT)) {
                    System.load(lt.toString());
                    LOADED.put(CudaLibrary.CUBLAS_LT, lt.toString());
                } else {
                    require(CudaLibrary.CUBLAS_LT);
                }
            }
            case NVRTC -> {
                for (Path builtins : nvrtcBuiltins(folder, major)) {
                    System.load(builtins.toString());
                }
            }
            default -> {
            }
        }
    }

    /**
     * The file the dynamic loader opens for {@code soname} (its cache, LD_LIBRARY_PATH, RUNPATHs):
     * opened once with dlopen's rules, then found in this process's mappings by the address of a
     * symbol it exports.
     */
    private static Path resolvedByTheDynamicLoader(CudaLibrary library, String soname) throws IOException {
        MemorySegment symbol = SymbolLookup.libraryLookup(soname, Arena.global()).find(library.symbol())
                .orElseThrow(() -> new IllegalStateException("loaded, but it has no " + library.symbol()));
        long address = symbol.address();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            // start-end perms offset dev inode path
            String[] fields = line.trim().split("\\s+", 6);
            String[] range = fields[0].split("-");
            if (fields.length == 6 && Long.compareUnsigned(Long.parseUnsignedLong(range[0], 16), address) <= 0
                    && Long.compareUnsigned(address, Long.parseUnsignedLong(range[1], 16)) < 0) {
                return Path.of(fields[5]);
            }
        }
        throw new IllegalStateException("loaded, but " + library.symbol() + " is in no mapped file");
    }

    /** {@code libnvrtc-builtins.so.MAJOR.MINOR} files beside libnvrtc (REFERENCE.md section 1). */
    static List<Path> nvrtcBuiltins(Path folder, String major) {
        String prefix = "libnvrtc-builtins.so." + major + ".";
        try (Stream<Path> entries = Files.list(folder)) {
            return entries.filter(p -> p.getFileName().toString().startsWith(prefix)).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    static String notFoundMessage(CudaLibrary library, LibrarySearch search, List<String> problems) {
        var text = new StringBuilder();
        text.append(library.description()).append(" library not found: no ")
                .append(String.join(" or ", library.sonames())).append(" in any of\n")
                .append(search.describe());
        if (!problems.isEmpty()) {
            text.append("and loading failed:\n");
            problems.forEach(p -> text.append(p).append('\n'));
        }
        text.append("Point -D").append(LibrarySearch.PATH_PROPERTY).append("=DIR[:DIR...] or ")
                .append(LibrarySearch.PATH_ENV).append(" (or LD_LIBRARY_PATH) at the folder holding ")
                .append(library.sonames().getFirst()).append('.');
        if (library == CudaLibrary.DRIVER) {
            text.append(" libcuda ships with the NVIDIA driver, not with the CUDA toolkit; without a GPU"
                    + " driver there is none to find.");
        }
        return text.toString();
    }
}
