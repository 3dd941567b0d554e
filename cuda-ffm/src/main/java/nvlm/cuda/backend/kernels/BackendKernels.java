package nvlm.cuda.backend.kernels;

import java.util.ArrayList;
import java.util.List;
import nvlm.kernels.gpu.AdamW;
import nvlm.kernels.gpu.Attention;
import nvlm.kernels.gpu.Cast;
import nvlm.kernels.gpu.Elementwise;
import nvlm.kernels.gpu.LayerNorm;
import nvlm.kernels.gpu.Reduce;
import nvlm.kernels.gpu.RmsNorm;
import nvlm.kernels.gpu.Softmax;
import nvlm.kernels.gpu.StridedCopy;
import nvlm.kernels.hat.GpuKernel;

/**
 * Every Java kernel the CUDA backend launches: the classes of {@code nvlm.kernels.gpu} it uses and
 * the ones of this package. The backend compiles them all (in parallel) when it starts, and the
 * tests translate and compile the same list with nvcc.
 */
public final class BackendKernels {
    private BackendKernels() {
    }

    /** Classes from the project's GPU kernel library ({@code nvlm.kernels.gpu}). */
    public static final List<Class<?>> LIBRARY = List.of(Elementwise.class, Cast.class, StridedCopy.class,
            Softmax.class, LayerNorm.class, RmsNorm.class, Reduce.class, AdamW.class, Attention.class);

    /** The backend's own kernels, for what the library does not cover. */
    public static final List<Class<?>> OWN = List.of(TypedCopy.class, Pointwise.class, Reductions.class,
            IndexedRows.class, CrossEntropyRows.class, RopeTable.class, GemmOperands.class);

    /** Every kernel of both lists, translated and verified. */
    public static List<GpuKernel> all() {
        List<GpuKernel> kernels = new ArrayList<>();
        for (Class<?> owner : LIBRARY) {
            kernels.addAll(GpuKernel.allIn(owner));
        }
        for (Class<?> owner : OWN) {
            kernels.addAll(GpuKernel.allIn(owner));
        }
        return kernels;
    }
}
