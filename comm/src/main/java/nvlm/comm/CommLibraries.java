package nvlm.comm;

import java.io.File;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Finds and loads Open MPI's {@code libmpi.so.40} on first use, once per process. The generated
 * bindings look symbols up in the libraries this class loader has loaded, so the library is loaded
 * with {@link System#load}; before that it is opened once with {@code dlopen(RTLD_NOW | RTLD_GLOBAL)},
 * because Open MPI's plugins ({@code mca_*.so}, opened by libmpi itself) resolve libmpi's and
 * libopen-pal's symbols from the global namespace, which {@code System.load} does not put them in.
 *
 * <p>Searched, in order: {@code $NVLM_MPI_LIBRARY} (a file), the folders of
 * {@code $LD_LIBRARY_PATH}, {@code lib/} beside the {@code mpirun} on {@code $PATH}, and the usual
 * system folders. NCCL is located like the CUDA libraries, by {@code nvlm.cuda.runtime.CudaLibraries}.
 */
public final class CommLibraries {
    public static final String MPI_LIBRARY_ENV = "NVLM_MPI_LIBRARY";
    private static final String MPI_SONAME = "libmpi.so.40";
    private static final int RTLD_NOW = 2;
    private static final int RTLD_GLOBAL = 0x100;
    private static String loaded;
    private static String failure;

    private CommLibraries() {
    }

    /** Loads libmpi (once); throws {@link CommException} listing the places searched when it cannot. */
    public static synchronized void requireMpi() {
        if (loaded != null) {
            return;
        }
        if (failure != null) {
            throw new CommException(failure);
        }
        List<String> problems = new ArrayList<>();
        List<Path> candidates = mpiCandidates();
        for (Path file : candidates) {
            if (!Files.isRegularFile(file)) {
                continue;
            }
            try {
                dlopenGlobal(file);
                System.load(file.toString());
                loaded = file.toString();
                return;
            } catch (RuntimeException | UnsatisfiedLinkError e) {
                problems.add("  " + file + " exists but did not load: " + e.getMessage());
            }
        }
        StringBuilder message = new StringBuilder("Open MPI's " + MPI_SONAME + " was not found (install openmpi-bin and"
                + " libopenmpi-dev, or set " + MPI_LIBRARY_ENV + " to the file); searched:");
        for (Path p : candidates) {
            message.append("\n  ").append(p);
        }
        problems.forEach(p -> message.append('\n').append(p));
        failure = message.toString();
        throw new CommException(failure);
    }

    /** Whether libmpi can be loaded (loads it if so). */
    public static boolean mpiAvailable() {
        try {
            requireMpi();
            return true;
        } catch (CommException e) {
            return false;
        }
    }

    /** The file libmpi was loaded from, or null. */
    public static synchronized String mpiLoadedFrom() {
        return loaded;
    }

    static List<Path> mpiCandidates() {
        Set<Path> out = new LinkedHashSet<>();
        String explicit = System.getenv(MPI_LIBRARY_ENV);
        if (explicit != null && !explicit.isBlank()) {
            out.add(Path.of(explicit));
        }
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String dir : ld.split(File.pathSeparator)) {
                if (!dir.isBlank()) {
                    out.add(Path.of(dir, MPI_SONAME));
                }
            }
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                Path mpirun = Path.of(dir.isBlank() ? "." : dir, "mpirun");
                if (Files.isExecutable(mpirun)) {
                    try {
                        Path real = mpirun.toRealPath();
                        out.add(real.getParent().resolveSibling("lib").resolve(MPI_SONAME));
                    } catch (java.io.IOException ignored) {
                        // a dangling link: nothing to add
                    }
                }
            }
        }
        for (String dir : List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
                "/usr/local/lib", "/opt/openmpi/lib", "/usr/lib64/openmpi/lib")) {
            out.add(Path.of(dir, MPI_SONAME));
        }
        return List.copyOf(out);
    }

    private static void dlopenGlobal(Path file) {
        Linker linker = Linker.nativeLinker();
        MethodHandle dlopen = linker.downcallHandle(linker.defaultLookup().findOrThrow("dlopen"),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = (MemorySegment) dlopen.invokeExact(arena.allocateFrom(file.toString()), RTLD_NOW | RTLD_GLOBAL);
            if (handle.equals(MemorySegment.NULL)) {
                throw new CommException("dlopen(" + file + ", RTLD_NOW | RTLD_GLOBAL) failed");
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new CommException("dlopen(" + file + ") failed: " + t, t);
        }
    }
}
