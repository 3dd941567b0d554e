/**
 * The Java-to-CUDA translator: a toolchain, not a kernel library (the kernels themselves are
 * {@link nvlm.kernels.gpu}). GPU kernels are written in Java, in the style of Project Babylon's
 * HAT, on the stock JDK: the kernel's bytecode is read with {@code java.lang.classfile}, checked
 * to be inside a small subset of Java, and translated to CUDA C; the same method also runs on the
 * CPU over the launch grid. The package holds the kernel language (the {@code @Kernel} annotation,
 * the context, the buffers), the translation and the CPU executor.
 *
 * <h2>Writing a kernel</h2>
 * A kernel is a {@code static void} method annotated {@link nvlm.kernels.translator.Kernel @Kernel}
 * whose first parameter is a {@link nvlm.kernels.translator.KernelContext} and whose other parameters
 * are primitives and buffers ({@link nvlm.kernels.translator.F32Buffer}, {@link nvlm.kernels.translator.BF16Buffer},
 * {@link nvlm.kernels.translator.F16Buffer}, {@link nvlm.kernels.translator.I32Buffer},
 * {@link nvlm.kernels.translator.I64Buffer}, {@link nvlm.kernels.translator.I8Buffer}):
 * <pre>{@code
 * @Kernel
 * static void add(KernelContext kc, F32Buffer a, F32Buffer b, F32Buffer out, int n) {
 *     int i = kc.gix();
 *     if (i < n) {
 *         out.set(i, a.get(i) + b.get(i));
 *     }
 * }
 * }</pre>
 * Allowed: primitive arithmetic and comparisons, loops, branches and switches, locals of
 * primitive and buffer type, {@code Math}/{@code StrictMath} functions and a few
 * {@code Float}/{@code Double}/{@code Integer}/{@code Long} bit methods, static final primitive
 * constants, buffer {@code get}/{@code set} ({@code atomicAdd} on F32Buffer), the context's ids,
 * {@code barrier()} and shared arrays ({@code sharedF32(n)}/{@code sharedI32(n)}: constant size,
 * declared before the first branch), and calls to other static methods in the same subset, which
 * become {@code __device__} functions (they may take the context as their first parameter).
 * Rejected, with the method, source line and construct named
 * ({@link nvlm.kernels.translator.KernelTranslationException}): allocation, arrays, field writes and
 * object field reads, virtual, interface and instance calls, JDK methods that are not intrinsics,
 * lambdas and other invokedynamic, string constants, null, try/catch/finally, throw,
 * synchronized, reference casts.
 *
 * <h2>Translation</h2>
 * {@link nvlm.kernels.translator.GpuKernel#of(Class, String)} verifies the kernel;
 * {@link nvlm.kernels.translator.GpuKernel#cuda(String)} gives the {@link nvlm.kernels.translator.CudaKernel}
 * for an architecture (cached): a self-contained source (no headers, NVRTC-ready) with one C
 * variable per Java local, labelled basic blocks and {@code // line N} comments. Java semantics
 * are kept where C differs: int/long overflow wraps, shift counts are masked, float-to-int
 * conversions saturate, {@code Math.min/max} treat NaN and -0.0 as Java does, float {@code %} is
 * {@code fmodf}, NaN comparisons follow fcmpl/fcmpg, bfloat16 stores round to nearest even. Two
 * differences remain: integer division by zero gives an unspecified value on the GPU instead of
 * an exception, and GPU float results may differ from the CPU's in the last bits (CUDA's math
 * functions are a few ulp from Java's, and nvcc fuses a*b+c unless compiled with
 * {@code --fmad=false}).
 *
 * <h2>Running</h2>
 * {@link nvlm.kernels.translator.GpuKernel#runOnCpu} runs the Java method over the grid: blocks in
 * parallel, the threads of a block one after another, or as virtual threads meeting at a barrier
 * when the kernel (or a function it calls) uses {@code barrier()}. Shared memory starts poisoned
 * (NaN) and buffer accesses are bounds-checked, so kernel bugs show up in CPU tests.
 *
 * <h2>Launching on a GPU</h2>
 * A {@link nvlm.kernels.translator.KernelLaunch} (kernel, grid, Java arguments) is what a CUDA runtime
 * receives: compile {@code kernel().cuda(arch).source()}, get the function
 * {@code entryName()}, and call {@code cuLaunchKernel} with {@code config()}'s grid and block,
 * {@code sharedMemBytes = 0} (shared memory is static; {@code staticSharedBytes()} says how much),
 * and one argument slot per {@link nvlm.kernels.translator.CudaParameter} in order
 * ({@link nvlm.kernels.translator.KernelLaunch#cudaArguments} maps buffers to device addresses and
 * booleans and small integers to ints). The context has no C parameter.
 */
package nvlm.kernels.translator;
