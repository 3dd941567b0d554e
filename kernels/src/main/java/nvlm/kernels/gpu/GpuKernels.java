package nvlm.kernels.gpu;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import nvlm.kernels.translator.GpuKernel;

/**
 * The list of the project's GPU kernels: every {@code @Kernel} of these classes, and nothing else,
 * is what the CUDA backend launches (its architecture test checks both directions). The backend
 * compiles them all when it opens a GPU, {@code ./nvlm kernels} lists and dumps them, and the
 * tests translate and compile the same list.
 */
public final class GpuKernels {
    private GpuKernels() {
    }

    /** The classes holding the kernels. */
    public static final List<Class<?>> CLASSES = List.of(Elementwise.class, Cast.class, StridedCopy.class, Reduce.class,
            Softmax.class, LayerNorm.class, RmsNorm.class, Rope.class, Embedding.class, CrossEntropy.class, AdamW.class,
            Attention.class);

    /** Every kernel, translated and verified (a kernel outside the subset throws here). */
    public static List<GpuKernel> all() {
        List<GpuKernel> kernels = new ArrayList<>();
        for (Class<?> owner : CLASSES) {
            kernels.addAll(GpuKernel.allIn(owner));
        }
        return kernels;
    }

    /** Writes every kernel's CUDA C for {@code arch} to {@code dir/<EntryName>.cu}; returns the files. */
    public static List<Path> dumpCuda(Path dir, String arch) throws IOException {
        return GpuKernel.writeCudaSources(dir, all(), arch);
    }
}
