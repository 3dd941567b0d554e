package nvlm.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.constantpool.ClassEntry;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.classfile.constantpool.StringEntry;
import java.lang.classfile.constantpool.Utf8Entry;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import nvlm.cuda.backend.BackendParity;
import nvlm.cuda.backend.CudaBackend;
import nvlm.cuda.backend.SimulatedAccelerator;
import nvlm.kernels.gpu.GpuKernels;
import nvlm.kernels.translator.GpuKernel;
import nvlm.tensor.MemoryScope;
import org.junit.jupiter.api.Test;

/**
 * The architecture of the GPU wing, read from the compiled classes: cuda-ffm's three floors hold
 * (the generated bindings call nothing of ours; only the runtime uses the bindings; the backend
 * uses the runtime, never a binding or a native call of its own), and the one kernel list
 * ({@link GpuKernels}) is exactly what the CUDA backend launches.
 */
class GpuFloorsTest {
    private static final String BINDINGS = "nvlm/cuda/bindings/";
    private static final String RUNTIME = "nvlm/cuda/runtime/";
    private static final String BACKEND = "nvlm/cuda/backend/";
    /** The FFM types that bind native functions; the backend leaves them to the runtime. */
    private static final List<String> NATIVE_CALLS = List.of("java/lang/foreign/Linker", "java/lang/foreign/SymbolLookup",
            "java/lang/foreign/FunctionDescriptor");
    /** A type in a descriptor or signature: {@code Lnvlm/cuda/runtime/CudaStream;}. */
    private static final Pattern TYPE_IN_DESCRIPTOR = Pattern.compile("L([\\w/$]+)[;<]");

    @Test
    void onlyTheRuntimeUsesTheBindingsAndTheBackendOnlyTheRuntime() throws Exception {
        Map<String, Set<String>> references = references();
        assertTrue(references.keySet().stream().anyMatch(c -> c.startsWith(BINDINGS))
                && references.keySet().stream().anyMatch(c -> c.startsWith(RUNTIME))
                && references.keySet().stream().anyMatch(c -> c.startsWith(BACKEND)),
                "the three floors' classes were not found: " + references.keySet());
        List<String> skipped = new ArrayList<>();
        references.forEach((owner, used) -> {
            for (String type : used) {
                if (owner.startsWith(BINDINGS) && type.startsWith("nvlm/") && !type.startsWith(BINDINGS)) {
                    skipped.add(owner + " (generated bindings) uses " + type);
                }
                if (!owner.startsWith(BINDINGS) && !owner.startsWith(RUNTIME) && type.startsWith(BINDINGS)) {
                    skipped.add(owner + " uses the binding " + type + ": only nvlm.cuda.runtime may");
                }
                if (owner.startsWith(RUNTIME) && type.startsWith(BACKEND)) {
                    skipped.add(owner + " (runtime) uses the backend's " + type);
                }
                if (owner.startsWith(BACKEND) && NATIVE_CALLS.contains(type)) {
                    skipped.add(owner + " makes native calls itself (" + type + "): the runtime makes them");
                }
            }
        });
        assertEquals(List.of(), skipped, "floors skipped in cuda-ffm");
    }

    @Test
    void theKernelListIsExactlyWhatTheBackendLaunches() {
        SimulatedAccelerator device = new SimulatedAccelerator();
        BackendParity parity = new BackendParity(1, BackendParity.Scale.SMALL);
        List<String> failed = new ArrayList<>();
        try (AutoCloseable simulated = CudaBackend.useAccelerator(device)) {
            for (Map.Entry<String, Supplier<BackendParity.Result>> check : parity.checks().entrySet()) {
                try (MemoryScope scope = MemoryScope.open()) {
                    BackendParity.Result result = parity.run(check.getKey(), check.getValue());
                    if (!result.passed()) {
                        failed.add(result.line());
                    }
                }
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertEquals(List.of(), failed, "backend checks");
        Set<String> launched = names(device.launchedKernels().stream());
        Set<String> listed = names(GpuKernels.all().stream());
        Set<String> unlisted = new TreeSet<>(launched);
        unlisted.removeAll(listed);
        Set<String> neverLaunched = new TreeSet<>(listed);
        neverLaunched.removeAll(launched);
        assertEquals(Set.of(), unlisted, "kernels the backend launches that GpuKernels does not list");
        assertEquals(Set.of(), neverLaunched,
                "kernels GpuKernels lists that the backend never launched in its checks (remove them, or check them)");
    }

    private static Set<String> names(Stream<GpuKernel> kernels) {
        return new TreeSet<>(kernels.map(GpuKernel::name).toList());
    }

    /** For each class of cuda-ffm (internal name), the internal names of the types it refers to. */
    private static Map<String, Set<String>> references() throws IOException, URISyntaxException {
        Path location = Path.of(CudaBackend.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Map<String, Set<String>> references = new TreeMap<>();
        if (Files.isDirectory(location)) {
            read(location, references);
        } else {
            try (FileSystem jar = FileSystems.newFileSystem(location)) {
                read(jar.getPath("/"), references);
            }
        }
        return references;
    }

    private static void read(Path root, Map<String, Set<String>> references) throws IOException {
        Path classes = root.resolve("nvlm/cuda");
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                ClassModel model = ClassFile.of().parse(Files.readAllBytes(file));
                references.put(model.thisClass().asInternalName(), referencedTypes(model));
            }
        }
    }

    /**
     * Every internal type name in the class's constant pool: class entries and the types in the
     * descriptors and signatures of fields, methods and calls (string constants excluded).
     */
    private static Set<String> referencedTypes(ClassModel model) {
        Set<Utf8Entry> strings = new HashSet<>();
        for (PoolEntry entry : model.constantPool()) {
            if (entry instanceof StringEntry s) {
                strings.add(s.utf8());
            }
        }
        Set<String> types = new TreeSet<>();
        for (PoolEntry entry : model.constantPool()) {
            if (entry instanceof ClassEntry c && !c.asInternalName().startsWith("[")) {
                types.add(c.asInternalName());
            } else if (entry instanceof Utf8Entry utf8 && !strings.contains(utf8)) {
                Matcher m = TYPE_IN_DESCRIPTOR.matcher(utf8.stringValue());
                while (m.find()) {
                    types.add(m.group(1));
                }
            }
        }
        return types;
    }
}
