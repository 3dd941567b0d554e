package nvlm.cuda.bindings;

import nvlm.cuda.runtime.LibrarySearch;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
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
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Compiles every binding's function descriptor, constant and struct layout against the real C
 * header with g++: each parameter's kind and size (pointer, 1/4/8-byte integer or enum, float)
 * must match, no bound name may be a macro (the header renaming it means the plain symbol has an
 * old ABI, REFERENCE.md section 1), and every constant must equal the header's value. Runs for
 * each header found (cuda.h and library_types.h are in the local toolkit; cuBLAS and NVRTC headers
 * are checked where installed, e.g. from NVIDIA's Python wheels).
 */
class HeaderSignatureTest {

    @Test
    void driverBindingsMatchCudaH() throws Exception {
        Path include = requireHeader("cuda.h");
        compile(include, List.of("cuda.h"), source(cuda_h.class, List.of("cuda.h"), name -> true, List.of()));
    }

    @Test
    void cudaDataTypeConstantsMatchLibraryTypesH() throws Exception {
        Path include = requireHeader("library_types.h");
        compile(include, List.of("library_types.h"), constantsOnly(cublas_api_h.class, name -> name.startsWith("CUDA_R_")));
    }

    @Test
    void nvrtcBindingsMatchNvrtcH() throws Exception {
        Path include = requireHeader("nvrtc.h");
        compile(include, List.of("nvrtc.h"), source(nvrtc_h.class, List.of("nvrtc.h"), name -> true, List.of()));
    }

    @Test
    void cublasBindingsMatchCublasApiH() throws Exception {
        // cublas_api.h refuses to be included without CUBLASAPI, which cublas_v2.h defines.
        Path include = requireHeader("cublas_v2.h");
        compile(include, List.of("cublas_v2.h"), source(cublas_api_h.class, List.of("cublas_v2.h"), name -> true, List.of()));
    }

    @Test
    void driverBindsOnlyVersionedSymbolsWhereTheHeaderRenames() {
        // The plain names exist in libcuda with the old ABI; binding them would pass 32-bit sizes.
        var functions = functionNames(cuda_h.class);
        for (String versioned : List.of("cuMemAlloc_v2", "cuMemFree_v2", "cuMemGetInfo_v2", "cuDeviceTotalMem_v2",
                "cuDevicePrimaryCtxRelease_v2", "cuMemcpyHtoD_v2", "cuMemcpyDtoHAsync_v2", "cuMemsetD32_v2",
                "cuStreamDestroy_v2", "cuEventDestroy_v2", "cuEventElapsedTime_v2")) {
            assertTrue(functions.contains(versioned), versioned);
        }
        for (String plain : List.of("cuMemAlloc", "cuMemFree", "cuMemGetInfo", "cuCtxCreate", "cuStreamBeginCapture",
                "cuGraphInstantiate", "cuEventElapsedTime", "cuMemcpyHtoD", "cuStreamDestroy")) {
            assertTrue(!functions.contains(plain), plain + " is the old-ABI symbol");
        }
    }

    // ---- C++ source generation from the Java bindings ----

    private static final String PRELUDE = """
            #include <cstddef>
            #include <type_traits>
            template <class T> constexpr char kind() {
              if constexpr (std::is_void_v<T>) return 'V';
              else if constexpr (std::is_pointer_v<T>) return 'A';
              else if constexpr (std::is_floating_point_v<T>) return sizeof(T) == 4 ? 'F' : 'D';
              else if constexpr (std::is_integral_v<T> || std::is_enum_v<T>)
                return sizeof(T) == 1 ? 'B' : sizeof(T) == 2 ? 'S' : sizeof(T) == 4 ? 'I' : sizeof(T) == 8 ? 'J' : '?';
              else return '?';
            }
            template <class R, class... A> struct Sig { static constexpr char value[] = {kind<R>(), kind<A>()..., 0}; };
            template <class R, class... A> constexpr const char* sig(R (*)(A...)) { return Sig<R, A...>::value; }
            constexpr bool same(const char* a, const char* b) {
              while (*a && *a == *b) { ++a; ++b; }
              return *a == *b;
            }
            """;

    static String source(Class<?> header, List<String> includes, Predicate<String> constantFilter,
                         List<GroupLayout> structs) throws Exception {
        var cpp = new StringBuilder();
        includes.forEach(i -> cpp.append("#include <").append(i).append(">\n"));
        cpp.append(PRELUDE);
        for (String name : functionNames(header)) {
            var descriptor = (FunctionDescriptor) header.getMethod(name + "$descriptor").invoke(null);
            String expected = code(descriptor);
            cpp.append("#ifdef ").append(name).append("\n#error \"").append(name)
                    .append(" is a macro in the header: bind the symbol it expands to\"\n#endif\n");
            cpp.append("static_assert(same(sig(&").append(name).append("), \"").append(expected).append("\"), \"")
                    .append(name).append(": Java descriptor is ").append(expected)
                    .append(" (return, then parameters; A pointer, I 4-byte, J 8-byte, B 1-byte, F float)\");\n");
        }
        appendConstants(cpp, header, constantFilter);
        for (GroupLayout struct : structs) {
            String type = struct.name().orElseThrow();
            cpp.append("static_assert(sizeof(").append(type).append(") == ").append(struct.byteSize())
                    .append(", \"sizeof ").append(type).append("\");\n");
            long offset = 0;
            for (MemoryLayout member : struct.memberLayouts()) {
                if (member.name().isPresent()) {
                    cpp.append("static_assert(offsetof(").append(type).append(", ").append(member.name().get())
                            .append(") == ").append(offset).append(", \"offset of ").append(type).append('.')
                            .append(member.name().get()).append("\");\n");
                }
                offset += member.byteSize();
            }
        }
        return cpp.toString();
    }

    static String constantsOnly(Class<?> header, Predicate<String> filter) throws Exception {
        var cpp = new StringBuilder("#include <library_types.h>\n");
        appendConstants(cpp, header, filter);
        return cpp.toString();
    }

    private static void appendConstants(StringBuilder cpp, Class<?> header, Predicate<String> filter) throws Exception {
        var functions = functionNames(header);
        for (Method m : header.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers()) && m.getParameterCount() == 0
                    && (m.getReturnType() == int.class || m.getReturnType() == long.class)
                    && !m.getName().contains("$") && !functions.contains(m.getName()) && filter.test(m.getName())) {
                long value = ((Number) m.invoke(null)).longValue();
                cpp.append("static_assert((long long)(").append(m.getName()).append(") == ").append(value)
                        .append("LL, \"").append(m.getName()).append(" is ").append(value).append(" in Java\");\n");
            }
        }
    }

    static LinkedHashSet<String> functionNames(Class<?> header) {
        var names = new LinkedHashSet<String>();
        Arrays.stream(header.getDeclaredMethods())
                .map(Method::getName)
                .filter(n -> n.endsWith("$descriptor"))
                .map(n -> n.substring(0, n.length() - "$descriptor".length()))
                .sorted()
                .forEach(names::add);
        return names;
    }

    private static String code(FunctionDescriptor descriptor) {
        var code = new StringBuilder();
        code.append(descriptor.returnLayout().map(HeaderSignatureTest::code).orElse("V"));
        descriptor.argumentLayouts().forEach(l -> code.append(code(l)));
        return code.toString();
    }

    private static String code(MemoryLayout layout) {
        if (layout instanceof AddressLayout) {
            return "A";
        }
        if (layout instanceof ValueLayout.OfFloat) {
            return "F";
        }
        if (layout instanceof ValueLayout.OfDouble) {
            return "D";
        }
        return switch ((int) layout.byteSize()) {
            case 1 -> "B";
            case 2 -> "S";
            case 4 -> "I";
            case 8 -> "J";
            default -> "?";
        };
    }

    // ---- compiler and header discovery ----

    private static Path requireHeader(String header) {
        assumeTrue(compiler().isPresent(), "no g++ on PATH to compile the header check");
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

    private static void compile(Path include, List<String> headers, String cpp) throws IOException, InterruptedException {
        Path file = Files.createTempFile("nvlm-header-check", ".cpp");
        try {
            Files.writeString(file, cpp);
            var command = new ArrayList<>(List.of(compiler().orElseThrow(), "-std=c++17", "-fsyntax-only",
                    "-I", include.toString()));
            // cublas_api.h and cublasLt.h include cuda_runtime_api.h / library_types.h from the toolkit.
            includeDirs().forEach(d -> command.addAll(List.of("-idirafter", d.toString())));
            command.add(file.toString());
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(process.waitFor(120, TimeUnit.SECONDS), "g++ timed out");
            if (process.exitValue() != 0) {
                fail("bindings disagree with " + headers + " in " + include + ":\n" + output);
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
