package nvlm.cuda.bindings;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import nvlm.cuda.runtime.LibrarySearch;
import org.junit.jupiter.api.Test;

/**
 * The headers the bindings are generated from, checked against NVIDIA's with g++: cuda.h is the
 * toolkit's own; nvrtc.h and cublas_api.h in {@code cuda-ffm/jextract} are minimal copies of the
 * declarations the runtime calls, compiled here beside the real headers wherever those are
 * installed (the GPU machine's Python wheels, or {@code NVLM_CUDA_INCLUDE}): every function must
 * have exactly the real declaration's type, no bound name may be a macro (the header renaming it
 * means the plain symbol has an old ABI, REFERENCE.md section 1), and every generated constant
 * must equal the header's value.
 */
class HeaderSignatureTest {
    private static final Path JEXTRACT = Path.of("jextract");

    @Test
    void driverConstantsMatchCudaH() throws Exception {
        Path include = requireHeader("cuda.h");
        compile(include, "#include <cuda.h>\n" + constants(cuda_h.class));
    }

    @Test
    void minimalNvrtcHeaderMatchesTheRealOne() throws Exception {
        Path include = requireHeader("nvrtc.h");
        compile(include, beside("nvrtc.h", JEXTRACT.resolve("nvrtc.h"), nvrtc_h.class));
    }

    @Test
    void minimalCublasHeaderMatchesTheRealOne() throws Exception {
        // cublas_api.h refuses to be included without CUBLASAPI, which cublas_v2.h defines.
        Path include = requireHeader("cublas_v2.h");
        compile(include, beside("cublas_v2.h", JEXTRACT.resolve("cublas_api.h"), cublas_api_h.class));
    }

    @Test
    void driverBindsOnlyVersionedSymbolsWhereTheHeaderRenames() {
        // The plain names exist in libcuda with the old ABI; binding them would pass 32-bit sizes.
        var functions = functionNames(cuda_h.class);
        for (String versioned : List.of("cuMemAlloc_v2", "cuMemFree_v2", "cuMemGetInfo_v2", "cuDeviceTotalMem_v2",
                "cuDevicePrimaryCtxRelease_v2", "cuMemcpyHtoDAsync_v2", "cuMemcpyDtoHAsync_v2", "cuStreamDestroy_v2",
                "cuEventDestroy_v2", "cuEventElapsedTime_v2")) {
            assertTrue(functions.contains(versioned), versioned);
        }
        for (String plain : List.of("cuMemAlloc", "cuMemFree", "cuMemGetInfo", "cuCtxCreate", "cuEventElapsedTime",
                "cuMemcpyHtoDAsync", "cuStreamDestroy")) {
            assertTrue(!functions.contains(plain), plain + " is the old-ABI symbol");
        }
    }

    // ---- C++ source from the Java bindings ----

    /**
     * The real header, then the minimal one inside {@code namespace minimal}: each function the
     * bindings have must be declared by the real header with exactly the minimal one's type once
     * the minimal header's own types (its enums and structs) are replaced by the real ones of the
     * same name (a static_cast to that type picks the C function among C++ overloads, or fails),
     * and each generated constant must have the header's value.
     */
    static String beside(String realHeader, Path minimalHeader, Class<?> bindings)
            throws IOException, ReflectiveOperationException {
        var cpp = new StringBuilder("#include <").append(realHeader).append(">\n#include <type_traits>\n");
        cpp.append("namespace minimal {\n#include \"").append(minimalHeader.toAbsolutePath()).append("\"\n}\n");
        cpp.append("""
                template <class T> struct Real { using type = T; };
                template <class T> struct Real<T*> { using type = typename Real<T>::type*; };
                template <class T> struct Real<const T> { using type = const typename Real<T>::type; };
                template <class R, class... A> struct Real<R (*)(A...)> {
                  using type = typename Real<R>::type (*)(typename Real<A>::type...);
                };
                """);
        String text = Files.readString(minimalHeader);
        // Typedef'd enums, and structs declared on their own line (a struct first named inside a
        // typedef is the real header's, already declared outside the namespace).
        Matcher types = Pattern.compile("}\\s*(\\w+)\\s*;|(?m)^struct\\s+(\\w+)\\s*;").matcher(text);
        var declared = new LinkedHashSet<String>();
        while (types.find()) {
            declared.add(types.group(1) != null ? types.group(1) : types.group(2));
        }
        for (String type : declared) {
            String kind = text.contains("struct " + type) ? "struct " : "";
            cpp.append("template <> struct Real<").append(kind).append("minimal::").append(type)
                    .append("> { using type = ").append(kind).append("::").append(type).append("; };\n");
        }
        for (String name : functionNames(bindings)) {
            cpp.append("#ifdef ").append(name).append("\n#error \"").append(name)
                    .append(" is a macro in the header: bind the symbol it expands to\"\n#endif\n");
            cpp.append("constexpr auto check_").append(name).append(" = static_cast<Real<decltype(&minimal::")
                    .append(name).append(")>::type>(&::").append(name).append(");\n");
        }
        return cpp.append(constants(bindings)).toString();
    }

    /** A static_assert per generated constant: the header's value must be the Java one. */
    static String constants(Class<?> bindings) throws ReflectiveOperationException {
        var cpp = new StringBuilder();
        var functions = functionNames(bindings);
        for (Method m : bindings.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers()) && m.getParameterCount() == 0
                    && (m.getReturnType() == int.class || m.getReturnType() == long.class)
                    && !m.getName().contains("$") && !functions.contains(m.getName())) {
                long value = ((Number) m.invoke(null)).longValue();
                cpp.append("static_assert((long long)(::").append(m.getName()).append(") == ").append(value)
                        .append("LL, \"").append(m.getName()).append(" is ").append(value).append(" in Java\");\n");
            }
        }
        return cpp.toString();
    }

    /** The bound functions (their descriptors need the library; their names do not). */
    static LinkedHashSet<String> functionNames(Class<?> bindings) {
        var names = new LinkedHashSet<String>();
        Arrays.stream(bindings.getDeclaredMethods())
                .map(Method::getName)
                .filter(n -> n.endsWith("$descriptor"))
                .map(n -> n.substring(0, n.length() - "$descriptor".length()))
                .sorted()
                .forEach(names::add);
        return names;
    }

    // ---- compiler and header discovery ----

    private static Path requireHeader(String header) {
        assumeTrue(compiler().isPresent(), "no g++ on PATH to compile the header check");
        assumeTrue(Files.isDirectory(JEXTRACT), "run from the cuda-ffm module folder: " + JEXTRACT + " missing");
        Optional<Path> include = includeDirs().stream().filter(d -> Files.isRegularFile(d.resolve(header))).findFirst();
        assumeTrue(include.isPresent(), header + " not found in " + includeDirs()
                + " (set NVLM_CUDA_INCLUDE to a folder holding it)");
        return include.get();
    }

    /** Toolkit include folders and the include/ beside every library folder the loader searches. */
    static List<Path> includeDirs() {
        var dirs = new LinkedHashSet<Path>();
        String env = System.getenv("NVLM_CUDA_INCLUDE");
        if (env != null) {
            Arrays.stream(env.split(":")).filter(s -> !s.isBlank()).map(Path::of).forEach(dirs::add);
        }
        dirs.add(Path.of("/usr/local/cuda/include"));
        dirs.add(Path.of("/usr/local/cuda/targets/x86_64-linux/include"));
        dirs.add(Path.of("/usr/include"));
        for (var place : LibrarySearch.standard().places()) {
            Path dir = place.directory();
            if (dir.getFileName() != null && dir.getFileName().toString().startsWith("lib") && dir.getParent() != null) {
                dirs.add(dir.getParent().resolve("include"));
            }
        }
        return dirs.stream().filter(Files::isDirectory).toList();
    }

    private static Optional<String> compiler() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "g++"))) {
                return Optional.of(Path.of(dir, "g++").toString());
            }
        }
        return Optional.empty();
    }

    private static void compile(Path include, String cpp) throws IOException, InterruptedException {
        Path file = Files.createTempFile("nvlm-header-check", ".cpp");
        try {
            Files.writeString(file, cpp);
            var command = new ArrayList<>(List.of(compiler().orElseThrow(), "-std=c++17", "-fsyntax-only",
                    "-I", include.toString()));
            // cublas_api.h includes driver_types.h, library_types.h and the fp16 headers from the toolkit.
            includeDirs().forEach(d -> command.addAll(List.of("-idirafter", d.toString())));
            command.add(file.toString());
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(process.waitFor(120, TimeUnit.SECONDS), "g++ timed out");
            if (process.exitValue() != 0) {
                fail("the bindings' headers disagree with NVIDIA's in " + include + ":\n" + output + "\nsource:\n" + cpp);
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
