package nvlm.cuda.runtime;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where the CUDA libraries are looked for, in order:
 * <ol>
 *   <li>the override: {@code -Dnvlm.cuda.libpath} then {@code NVLM_CUDA_LIBPATH} (path lists);</li>
 *   <li>{@code java.library.path} and {@code LD_LIBRARY_PATH};</li>
 *   <li>the driver mount of GPU containers ({@code /usr/local/nvidia/lib64}, {@code /usr/local/nvidia/lib}),
 *       the system folders, then {@code /usr/local/cuda*}{@code /lib64} and {@code targets/x86_64-linux/lib}
 *       (plain {@code cuda} first, then versioned folders newest first);</li>
 *   <li>NVIDIA's Python wheels (as bundled with PyTorch) in every site-packages found:
 *       {@code nvidia/cu13/lib} (CUDA 13 wheels) and {@code nvidia/{cublas,cuda_nvrtc,cuda_runtime}/lib}
 *       (CUDA 12 wheels), REFERENCE.md section 1.</li>
 * </ol>
 * After these, {@link CudaLibraries} asks the dynamic loader for the bare soname. The toolkit's
 * {@code lib64/stubs} folder is never searched: its libcuda only returns CUDA_ERROR_STUB_LIBRARY.
 *
 * <p>Fixed folders are resolved under {@code root} so tests can lay out a fake file system.
 */
public record LibrarySearch(List<Place> places, List<String> notes) {

    public static final String PATH_PROPERTY = "nvlm.cuda.libpath";
    public static final String PATH_ENV = "NVLM_CUDA_LIBPATH";

    /** A folder to look in, and why it is searched. Override places win over every soname preference. */
    public record Place(Path directory, String origin, boolean override) {
    }

    public LibrarySearch {
        places = List.copyOf(places);
        notes = List.copyOf(notes);
    }

    /** The search this process uses: its system properties, environment and file system. */
    public static LibrarySearch standard() {
        return of(System.getProperty(PATH_PROPERTY), System.getenv(), System.getProperty("java.library.path"),
                Path.of("/"));
    }

    /**
     * The places searched, given the override property value (may be null), the environment, the
     * {@code java.library.path} value (may be null) and the root under which fixed folders are resolved.
     */
    public static LibrarySearch of(String propertyPath, Map<String, String> env, String javaLibraryPath, Path root) {
        var places = new ArrayList<Place>();
        var notes = new ArrayList<String>();
        addPathList(places, notes, propertyPath, "-D" + PATH_PROPERTY, true);
        addPathList(places, notes, env.get(PATH_ENV), PATH_ENV, true);
        addPathList(places, notes, javaLibraryPath, "java.library.path", false);
        addPathList(places, notes, env.get("LD_LIBRARY_PATH"), "LD_LIBRARY_PATH", false);
        for (String fixed : List.of("usr/local/nvidia/lib64", "usr/local/nvidia/lib", "usr/lib/x86_64-linux-gnu",
                "usr/lib64")) {
            places.add(new Place(root.resolve(fixed), "standard folder", false));
        }
        for (Path cuda : cudaToolkits(root)) {
            places.add(new Place(cuda.resolve("lib64"), "CUDA toolkit", false));
            places.add(new Place(cuda.resolve("targets/x86_64-linux/lib"), "CUDA toolkit", false));
        }
        var sitePackages = new ArrayList<Path>();
        sitePackages.addAll(glob(root.resolve("opt/torch/.venv/lib"), "python3", "site-packages"));
        String venv = env.get("VIRTUAL_ENV");
        if (venv != null && !venv.isBlank()) {
            sitePackages.addAll(glob(Path.of(venv).resolve("lib"), "python3", "site-packages"));
        }
        sitePackages.add(root.resolve("usr/lib/python3/dist-packages"));
        sitePackages.addAll(glob(root.resolve("usr/local/lib"), "python3", "dist-packages"));
        sitePackages.addAll(glob(root.resolve("usr/local/lib"), "python3", "site-packages"));
        for (Path site : sitePackages) {
            for (String wheel : List.of("nvidia/cu13/lib", "nvidia/cublas/lib", "nvidia/cuda_nvrtc/lib",
                    "nvidia/cuda_runtime/lib", "nvidia/nccl/lib")) {
                places.add(new Place(site.resolve(wheel), "Python wheel", false));
            }
        }
        return new LibrarySearch(withoutRepeats(places), notes);
    }

    /** Keeps each folder's first (highest-priority) occurrence. */
    private static List<Place> withoutRepeats(List<Place> places) {
        var seen = new java.util.HashSet<Path>();
        return places.stream().filter(p -> seen.add(p.directory().toAbsolutePath().normalize())).toList();
    }

    /**
     * Every existing file for these sonames, best first: each override place with each soname,
     * then each soname (preferred first) across the other places.
     */
    public List<Path> candidates(List<String> sonames) {
        var found = new ArrayList<Path>();
        for (Place place : places) {
            if (place.override()) {
                for (String soname : sonames) {
                    addIfFile(found, place.directory().resolve(soname));
                }
            }
        }
        for (String soname : sonames) {
            for (Place place : places) {
                if (!place.override()) {
                    addIfFile(found, place.directory().resolve(soname));
                }
            }
        }
        return found;
    }

    /** The best candidate for a library, if any file exists. */
    public Optional<Path> find(CudaLibrary library) {
        return candidates(library.sonames()).stream().findFirst();
    }

    /** One line per place searched, for error messages. */
    public String describe() {
        var text = new StringBuilder();
        for (Place place : places) {
            text.append("  ").append(place.directory()).append(" (").append(place.origin())
                    .append(Files.isDirectory(place.directory()) ? "" : ", absent").append(")\n");
        }
        for (String note : notes) {
            text.append("  ").append(note).append('\n');
        }
        return text.toString();
    }

    private static void addIfFile(List<Path> found, Path file) {
        if (Files.isRegularFile(file) && !found.contains(file)) {
            found.add(file);
        }
    }

    private static void addPathList(List<Place> places, List<String> notes, String value, String origin,
                                    boolean override) {
        if (value == null || value.isBlank()) {
            notes.add("(" + origin + " not set)");
            return;
        }
        for (String entry : value.split(File.pathSeparator)) {
            if (!entry.isBlank()) {
                places.add(new Place(Path.of(entry.strip()), origin, override));
            }
        }
    }

    /** {@code root/usr/local/cuda} first, then {@code cuda-X.Y} folders, newest version first. */
    private static List<Path> cudaToolkits(Path root) {
        Path local = root.resolve("usr/local");
        var found = new ArrayList<Path>();
        found.add(local.resolve("cuda"));
        found.addAll(glob(local, "cuda-", null).stream()
                .sorted(Comparator.comparing((Path p) -> versionKey(p.getFileName().toString().substring(5)))
                        .reversed())
                .toList());
        return found;
    }

    /** Children of {@code dir} whose name starts with {@code prefix}, each resolved with {@code child} if given. */
    private static List<Path> glob(Path dir, String prefix, String child) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(p -> p.getFileName().toString().startsWith(prefix) && Files.isDirectory(p))
                    .sorted(Comparator.comparing(Path::toString).reversed())
                    .map(p -> child == null ? p : p.resolve(child))
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** "12.4" -> a key that orders 12.10 after 12.4 (zero-padded components). */
    private static String versionKey(String version) {
        var key = new StringBuilder();
        for (String part : version.split("\\.")) {
            key.append(String.format("%06d.", !part.isEmpty() && part.length() <= 6 && part.chars().allMatch(Character::isDigit)
                    ? Integer.parseInt(part) : 0));
        }
        return key.toString();
    }
}
