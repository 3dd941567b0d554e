package nvlm.kernels.translator;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Executes translated kernels as C++ on the host (g++ with {@code host_cuda.h} standing in for
 * the CUDA builtins), so the translation's semantics can be compared with the Java method's on a
 * machine without a GPU. All launches go into one program, one compile.
 */
public final class HostCompiledKernels {
    private HostCompiledKernels() {
    }

    /** g++ with C++20 support, if installed. */
    public static Optional<Path> gxx() {
        for (String candidate : List.of("/usr/bin/g++", "/usr/local/bin/g++")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return Optional.of(Path.of(candidate));
            }
        }
        return Optional.empty();
    }

    /**
     * Runs every launch's translated C and returns, per launch, its arguments after the run:
     * buffers as new heap buffers holding what the C code left in them, scalars unchanged. The
     * launches' own buffers are only read (their current contents are the inputs).
     */
    public static List<List<Object>> run(Path gxx, List<KernelLaunch> launches, Path workDir)
            throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        try (InputStream header = HostCompiledKernels.class.getResourceAsStream("host_cuda.h")) {
            Files.write(workDir.resolve("host_cuda.h"), header.readAllBytes());
        }
        Map<String, Integer> kernelNamespaces = new LinkedHashMap<>();
        StringBuilder program = new StringBuilder("#include \"host_cuda.h\"\n");
        for (KernelLaunch launch : launches) {
            CudaKernel cuda = launch.kernel().cuda();
            if (!kernelNamespaces.containsKey(cuda.entryName())) {
                int id = kernelNamespaces.size();
                kernelNamespaces.put(cuda.entryName(), id);
                Files.writeString(workDir.resolve(cuda.entryName() + ".cu"), cuda.source(), StandardCharsets.UTF_8);
                program.append("namespace nvlm_k").append(id).append(" {\n#include \"").append(cuda.entryName())
                        .append(".cu\"\n}\n");
            }
        }
        for (int c = 0; c < launches.size(); c++) {
            KernelLaunch launch = launches.get(c);
            CudaKernel cuda = launch.kernel().cuda();
            Path caseDir = workDir.resolve("case" + c);
            Files.createDirectories(caseDir);
            program.append("static void case").append(c).append("(const char* dir) {\n");
            List<String> callArgs = new ArrayList<>();
            List<String> stores = new ArrayList<>();
            for (int a = 0; a < launch.arguments().size(); a++) {
                Object arg = launch.arguments().get(a);
                String name = "a" + a;
                if (arg instanceof Buffer buffer) {
                    String element = elementType(buffer);
                    Files.write(caseDir.resolve("arg" + a + ".bin"), buffer.segment().toArray(ValueLayout.JAVA_BYTE));
                    program.append("    ").append(element).append("* ").append(name).append(" = nvlm_load<")
                            .append(element).append(">(dir, ").append(a).append(", ").append(buffer.length()).append(");\n");
                    stores.add("    nvlm_store<" + element + ">(dir, " + a + ", " + name + ", " + buffer.length() + ");\n");
                } else {
                    CudaParameter parameter = cuda.parameters().get(a);
                    program.append("    ").append(parameter.cType()).append(' ').append(name).append(" = ")
                            .append(scalar(arg)).append(";\n");
                }
                callArgs.add(name);
            }
            LaunchConfig g = launch.config();
            program.append("    nvlm_launch(").append(g.gridX()).append(", ").append(g.gridY()).append(", ")
                    .append(g.gridZ()).append(", ").append(g.blockX()).append(", ").append(g.blockY()).append(", ")
                    .append(g.blockZ()).append(", ").append(cuda.usesBarrier()).append(", [&] { nvlm_k").append(kernelNamespaces.get(cuda.entryName()))
                    .append("::").append(cuda.entryName()).append('(').append(String.join(", ", callArgs))
                    .append("); });\n");
            stores.forEach(program::append);
            program.append("}\n");
        }
        program.append("int main(int argc, char** argv) {\n    char dir[4096];\n");
        for (int c = 0; c < launches.size(); c++) {
            program.append("    std::snprintf(dir, sizeof dir, \"%s/case").append(c).append("\", argv[1]); case")
                    .append(c).append("(dir);\n");
        }
        program.append("    return 0;\n}\n");
        Files.writeString(workDir.resolve("main.cpp"), program.toString(), StandardCharsets.UTF_8);

        exec(workDir, List.of(gxx.toString(), "-std=c++20", "-O1", "-w", "-o", "main", "main.cpp"));
        exec(workDir, List.of(workDir.resolve("main").toString(), workDir.toString()));

        List<List<Object>> results = new ArrayList<>();
        for (int c = 0; c < launches.size(); c++) {
            List<Object> after = new ArrayList<>();
            for (int a = 0; a < launches.get(c).arguments().size(); a++) {
                Object arg = launches.get(c).arguments().get(a);
                if (arg instanceof Buffer buffer) {
                    byte[] bytes = Files.readAllBytes(workDir.resolve("case" + c).resolve("arg" + a + ".out"));
                    MemorySegment memory = Arena.ofAuto().allocate(Math.max(1, bytes.length), 8)
                            .asSlice(0, bytes.length);
                    MemorySegment.copy(MemorySegment.ofArray(bytes), 0, memory, 0, bytes.length);
                    after.add(sameType(buffer, memory));
                } else {
                    after.add(arg);
                }
            }
            results.add(after);
        }
        return results;
    }

    private static void exec(Path dir, List<String> command) throws IOException, InterruptedException {
        Path log = dir.resolve("exec.log");
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " timed out in " + dir);
        }
        if (process.exitValue() != 0) {
            String output = Files.readString(log);
            throw new IllegalStateException(String.join(" ", command) + " failed (exit " + process.exitValue()
                    + ") in " + dir + ":\n" + output.substring(0, Math.min(output.length(), 20000)));
        }
    }

    private static String elementType(Buffer buffer) {
        return switch (buffer) {
            case F32Buffer b -> "float";
            case BF16Buffer b -> "unsigned short";
            case F16Buffer b -> "unsigned short";
            case I32Buffer b -> "int";
            case I64Buffer b -> "long long";
            case I8Buffer b -> "signed char";
        };
    }

    private static Buffer sameType(Buffer like, MemorySegment memory) {
        return switch (like) {
            case F32Buffer b -> F32Buffer.of(memory);
            case BF16Buffer b -> BF16Buffer.of(memory);
            case F16Buffer b -> F16Buffer.of(memory);
            case I32Buffer b -> I32Buffer.of(memory);
            case I64Buffer b -> I64Buffer.of(memory);
            case I8Buffer b -> I8Buffer.of(memory);
        };
    }

    private static String scalar(Object value) {
        return switch (value) {
            case Integer i -> CExpr.literal(i);
            case Long l -> CExpr.literal(l);
            case Float f -> "__int_as_float(" + Float.floatToRawIntBits(f) + ")";
            case Double d -> "__longlong_as_double(" + CExpr.literal(Double.doubleToRawLongBits(d)) + ")";
            case Boolean b -> b ? "1" : "0";
            case Byte b -> Integer.toString(b);
            case Short s -> Integer.toString(s);
            case Character ch -> Integer.toString(ch);
            default -> throw new IllegalArgumentException("not a kernel scalar: " + value);
        };
    }
}
