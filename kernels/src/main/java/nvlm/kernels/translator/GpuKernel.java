package nvlm.kernels.translator;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * A kernel written in Java (a {@link Kernel @Kernel} method), runnable on the CPU and
 * translatable to CUDA C. Creating one reads and verifies its bytecode, so a kernel outside the
 * subset fails here with a {@link KernelTranslationException}.
 *
 * <pre>{@code
 * GpuKernel add = GpuKernel.of(Elementwise.class, "add");
 * add.runOnCpu(LaunchConfig.covering(n, 256), a, b, out, n);   // on the CPU
 * String cuda = add.cudaSource();                               // extern "C" __global__ void Elementwise_add(...)
 * }</pre>
 */
public final class GpuKernel {
    /** The architecture {@link #cuda()} targets: Hopper (H100/H200). */
    public static final String DEFAULT_ARCH = "sm_90";

    private static final Pattern ARCH = Pattern.compile("sm_\\d{2,3}[a-z]?");
    private static final Map<Method, GpuKernel> KERNELS = new ConcurrentHashMap<>();

    private final Method method;
    private final String name;
    private final MethodHandle handle;
    private final List<Class<?>> parameterTypes;
    private final Map<String, CudaKernel> translations = new ConcurrentHashMap<>();
    private final boolean usesBarrier;

    private GpuKernel(Method method) {
        this.method = method;
        this.name = CudaTranslator.ownerName(method.getDeclaringClass()) + "." + method.getName();
        Class<?>[] types = method.getParameterTypes();
        if (types.length == 0 || types[0] != KernelContext.class || method.getReturnType() != void.class
                || !Modifier.isStatic(method.getModifiers())) {
            throw new IllegalArgumentException(name + " is not a kernel: a kernel is a static void method whose "
                    + "first parameter is a KernelContext");
        }
        this.parameterTypes = List.of(Arrays.copyOfRange(types, 1, types.length));
        this.usesBarrier = cuda().usesBarrier();
        try {
            method.setAccessible(true);
            this.handle = MethodHandles.lookup().unreflect(method).asSpreader(Object[].class, types.length);
        } catch (IllegalAccessException | RuntimeException e) {
            throw new IllegalArgumentException(name + ": cannot call the kernel method: " + e, e);
        }
    }

    /** The {@link Kernel @Kernel} method {@code name} of {@code owner} (there must be exactly one). */
    public static GpuKernel of(Class<?> owner, String name) {
        List<Method> candidates = Arrays.stream(owner.getDeclaredMethods())
                .filter(m -> m.getName().equals(name) && m.isAnnotationPresent(Kernel.class))
                .toList();
        if (candidates.size() != 1) {
            throw new IllegalArgumentException(owner.getName() + " has " + candidates.size() + " @Kernel methods named '"
                    + name + "', expected exactly one");
        }
        return of(candidates.getFirst());
    }

    /** The kernel for a {@link Kernel @Kernel} method; translations are cached per kernel. */
    public static GpuKernel of(Method method) {
        if (!method.isAnnotationPresent(Kernel.class)) {
            throw new IllegalArgumentException(method.getDeclaringClass().getName() + "." + method.getName()
                    + " is not annotated @Kernel");
        }
        GpuKernel existing = KERNELS.get(method);
        if (existing != null) {
            return existing;
        }
        GpuKernel created = new GpuKernel(method);
        GpuKernel raced = KERNELS.putIfAbsent(method, created);
        return raced == null ? created : raced;
    }

    /** Every {@link Kernel @Kernel} method of {@code owner}, by name. */
    public static List<GpuKernel> allIn(Class<?> owner) {
        return Arrays.stream(owner.getDeclaredMethods())
                .filter(m -> m.isAnnotationPresent(Kernel.class))
                .sorted(Comparator.comparing(Method::getName))
                .map(GpuKernel::of)
                .toList();
    }

    /** {@code SimpleClassName.method}. */
    public String name() {
        return name;
    }

    public Method method() {
        return method;
    }

    /** The Java parameter types after the KernelContext, i.e. what {@link #launch} takes. */
    public List<Class<?>> parameterTypes() {
        return parameterTypes;
    }

    /** Whether the kernel (or a method it calls) uses {@code barrier()}. */
    public boolean usesBarrier() {
        return usesBarrier;
    }

    /** The translation for {@link #DEFAULT_ARCH}. */
    public CudaKernel cuda() {
        return cuda(DEFAULT_ARCH);
    }

    /** The translation for {@code arch} (e.g. {@code sm_90}), made once and cached. */
    public CudaKernel cuda(String arch) {
        if (!ARCH.matcher(arch).matches()) {
            throw new IllegalArgumentException(name + ": target architecture must look like sm_90, got '" + arch + "'");
        }
        return translations.computeIfAbsent(arch, a -> CudaTranslator.translate(method, a));
    }

    /** The CUDA C source for {@link #DEFAULT_ARCH}. */
    public String cudaSource() {
        return cuda().source();
    }

    /** A launch of this kernel with {@code args} (the parameters after the context), checked against the signature. */
    public KernelLaunch launch(LaunchConfig config, Object... args) {
        checkArguments(args);
        return new KernelLaunch(this, config, Arrays.asList(args));
    }

    /** Runs the kernel over {@code config}'s grid on the CPU. */
    public void runOnCpu(LaunchConfig config, Object... args) {
        checkArguments(args);
        CpuExecutor.run(name, handle, config, args, usesBarrier);
    }

    private void checkArguments(Object[] args) {
        if (args.length != parameterTypes.size()) {
            throw new IllegalArgumentException(name + " takes " + parameterTypes.size() + " arguments after the context "
                    + parameterTypes.stream().map(Class::getSimpleName).toList() + ", got " + args.length);
        }
        List<CudaParameter> parameters = cuda().parameters();
        for (int i = 0; i < args.length; i++) {
            Class<?> expected = parameterTypes.get(i);
            Object arg = args[i];
            boolean ok = arg != null && (expected.isPrimitive() ? boxOf(expected) : expected).isInstance(arg);
            if (!ok) {
                throw new IllegalArgumentException(name + " argument " + i + " (" + parameters.get(i).name()
                        + "): expected " + expected.getSimpleName() + ", got "
                        + (arg == null ? "null" : arg.getClass().getSimpleName()));
            }
        }
    }

    private static Class<?> boxOf(Class<?> primitive) {
        return MethodHandles.zero(primitive).type().wrap().returnType();
    }

    /**
     * Writes the CUDA C source of each kernel to {@code dir/<EntryName>.cu} (each file written to a
     * temporary name and renamed). Returns the files written.
     */
    public static List<Path> writeCudaSources(Path dir, Collection<GpuKernel> kernels, String arch) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        for (GpuKernel kernel : kernels) {
            CudaKernel cuda = kernel.cuda(arch);
            Path target = dir.resolve(cuda.entryName() + ".cu");
            Path temporary = dir.resolve(cuda.entryName() + ".cu.tmp");
            Files.writeString(temporary, cuda.source(), StandardCharsets.UTF_8);
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            written.add(target);
        }
        return written;
    }

    @Override
    public String toString() {
        return "GpuKernel[" + name + "]";
    }
}
