package nvlm.cuda.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.stream.Stream;

/**
 * Finds and loads the CUDA libraries on first use ({@link LibrarySearch} says where), once per
 * process. A library that cannot be found stays not found: every later call throws the same
 * {@link CudaLibraryNotFoundException} without searching again.
 *
 * <p>Libraries are loaded into the global arena (never unloaded). cuBLAS is loaded after the
 * cuBLASLt of its own folder, and NVRTC after the {@code libnvrtc-builtins} beside it, so that
 * their own dlopen/DT_NEEDED lookups find the already-loaded copies by soname.
 */
public final class CudaLibraries {

    private record Loaded(SymbolLookup lookup, String location) {
    }

    private static final Map<CudaLibrary, Loaded> LOADED = new EnumMap<>(CudaLibrary.class);
    private static final Map<CudaLibrary, String> FAILED = new EnumMap<>(CudaLibrary.class);
    /** Loaded lookups by ordinal, read without the lock on every call. */
    private static final AtomicReferenceArray<SymbolLookup> FAST = new AtomicReferenceArray<>(CudaLibrary.values().length);

    private CudaLibraries() {
    }

    /** The library's symbols, loading it on first use; throws when it cannot be found or loaded. */
    public static SymbolLookup lookup(CudaLibrary library) {
        SymbolLookup lookup = FAST.get(library.ordinal());
        return lookup != null ? lookup : load(library);
    }

    /** Whether the library can be loaded (loads it if so). */
    public static boolean isAvailable(CudaLibrary library) {
        try {
            lookup(library);
            return true;
        } catch (CudaLibraryNotFoundException e) {
            return false;
        }
    }

    /** Why the library is unavailable, or empty when it loads. */
    public static Optional<String> unavailableReason(CudaLibrary library) {
        try {
            lookup(library);
            return Optional.empty();
        } catch (CudaLibraryNotFoundException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** Where a loaded library came from: a path, or the soname the dynamic loader resolved. */
    public static synchronized Optional<String> location(CudaLibrary library) {
        Loaded loaded = LOADED.get(library);
        return loaded == null ? Optional.empty() : Optional.of(loaded.location());
    }

    private static synchronized SymbolLookup load(CudaLibrary library) {
        Loaded loaded = LOADED.get(library);
        if (loaded != null) {
            return loaded.lookup();
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
                loaded = new Loaded(SymbolLookup.libraryLookup(file, Arena.global()), file.toString());
                break;
            } catch (RuntimeException | CudaLibraryNotFoundException e) {
                problems.add("  " + file + " exists but did not load: " + e.getMessage());
            }
        }
        if (loaded == null) {
            for (String soname : library.sonames()) {
                try {
                    loaded = new Loaded(SymbolLookup.libraryLookup(soname, Arena.global()), soname);
                    break;
                } catch (RuntimeException e) {
                    problems.add("  dynamic loader: " + soname + ": " + e.getMessage());
                }
            }
        }
        if (loaded == null) {
            String message = notFoundMessage(library, search, problems);
            FAILED.put(library, message);
            throw new CudaLibraryNotFoundException(library, message);
        }
        LOADED.put(library, loaded);
        FAST.set(library.ordinal(), loaded.lookup());
        return loaded.lookup();
    }

    /** cuBLAS needs its cuBLASLt, NVRTC its builtins: load those from the same folder first. */
    private static void loadCompanions(CudaLibrary library, Path file) {
        String major = file.getFileName().toString().replaceAll(".*\\.so\\.", "");
        Path folder = file.getParent();
        switch (library) {
            case CUBLAS -> {
                Path lt = folder.resolve("libcublasLt.so." + major);
                if (Files.isRegularFile(lt) && !LOADED.containsKey(CudaLibrary.CUBLAS_LT)) {
                    LOADED.put(CudaLibrary.CUBLAS_LT,
                            new Loaded(SymbolLookup.libraryLookup(lt, Arena.global()), lt.toString()));
                    FAST.set(CudaLibrary.CUBLAS_LT.ordinal(), LOADED.get(CudaLibrary.CUBLAS_LT).lookup());
                } else {
                    load(CudaLibrary.CUBLAS_LT);
                }
            }
            case NVRTC -> {
                for (Path builtins : nvrtcBuiltins(folder, major)) {
                    SymbolLookup.libraryLookup(builtins, Arena.global());
                }
            }
            default -> {
            }
        }
    }

    /** {@code libnvrtc-builtins.so.MAJOR.MINOR} files beside libnvrtc (REFERENCE.md section 1). */
    static List<Path> nvrtcBuiltins(Path folder, String major) {
        String prefix = "libnvrtc-builtins.so." + major + ".";
        try (Stream<Path> entries = Files.list(folder)) {
            return entries.filter(p -> p.getFileName().toString().startsWith(prefix)).sorted().toList();
        } catch (java.io.IOException e) {
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
