package nvlm.trainer.cli;

import java.nio.file.Path;
import java.util.List;
import nvlm.kernels.gpu.GpuKernels;
import nvlm.kernels.translator.CudaKernel;
import nvlm.kernels.translator.GpuKernel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./nvlm kernels}: the Java GPU kernels the CUDA backend launches ({@link GpuKernels}, the
 * one list) and their CUDA C translations, for inspection: list them, print one, or write them
 * all to a folder.
 */
@Command(name = "kernels",
        header = "list the GPU kernels the CUDA backend launches, print or dump their CUDA C (--list, --show NAME, --dump DIR)")
public final class KernelsCommand implements NvlmCommand {
    @Option(names = "--list", description = "every kernel, its C signature and shared memory")
    boolean list;
    @Option(names = "--show", paramLabel = "NAME", description = "print one kernel's CUDA C, e.g. Softmax.forwardKernel")
    String show;
    @Option(names = "--dump", paramLabel = "DIR", description = "write every kernel's CUDA C to DIR/<Class>_<method>.cu")
    Path dump;
    @Option(names = "--arch", paramLabel = "SM", description = "the GPU architecture translated for (default ${DEFAULT-VALUE})")
    String arch = GpuKernel.DEFAULT_ARCH;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!list && show == null && dump == null) {
            return Main.usage(spec);
        }
        List<GpuKernel> kernels = GpuKernels.all();
        if (list) {
            for (GpuKernel kernel : kernels) {
                CudaKernel cuda = kernel.cuda(arch);
                System.out.printf("%-40s shared %6d B%s  %s%n", kernel.name(), cuda.staticSharedBytes(),
                        cuda.usesBarrier() ? ", barriers" : "", cuda.signature());
            }
        }
        if (show != null) {
            GpuKernel kernel = kernels.stream().filter(k -> k.name().equals(show)).findFirst()
                    .orElseThrow(() -> new UsageException("no kernel named '" + show + "' (see ./nvlm kernels --list)"));
            System.out.print(kernel.cuda(arch).source());
        }
        if (dump != null) {
            List<Path> files = GpuKernel.writeCudaSources(dump, kernels, arch);
            System.out.println("wrote " + files.size() + " CUDA C files for " + arch + " to " + dump);
        }
        return 0;
    }
}
