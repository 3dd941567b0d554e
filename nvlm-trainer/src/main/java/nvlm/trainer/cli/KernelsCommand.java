package nvlm.trainer.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import nvlm.kernels.gpu.GpuKernels;
import nvlm.kernels.translator.CudaKernel;
import nvlm.kernels.translator.GpuKernel;

/**
 * {@code ./nvlm kernels}: the Java GPU kernels the CUDA backend launches ({@link GpuKernels}, the
 * one list) and their CUDA C translations, for inspection: list them, print one, or write them
 * all to a folder.
 */
public final class KernelsCommand implements Command {
    @Override
    public String name() {
        return "kernels";
    }

    @Override
    public String summary() {
        return "list the GPU kernels the CUDA backend launches, print or dump their CUDA C (--list, --show NAME, --dump DIR)";
    }

    @Override
    public int run(List<String> words) throws Exception {
        Args args = Args.parse(name(), words, Set.of("dump", "show", "arch"), Set.of("list", "help"));
        if (args.has("help") || (!args.has("dump") && !args.has("show") && !args.has("list"))) {
            System.out.println("""
                    usage: ./nvlm kernels --list                  every kernel, its C signature and shared memory
                           ./nvlm kernels --show Softmax.forwardKernel [--arch sm_90]   one kernel's CUDA C
                           ./nvlm kernels --dump DIR [--arch sm_90]  every kernel's CUDA C, DIR/<Class>_<method>.cu""");
            return args.has("help") ? 0 : 2;
        }
        String arch = args.get("arch", GpuKernel.DEFAULT_ARCH);
        List<GpuKernel> kernels = GpuKernels.all();
        if (args.has("list")) {
            for (GpuKernel kernel : kernels) {
                CudaKernel cuda = kernel.cuda(arch);
                System.out.printf("%-40s shared %6d B%s  %s%n", kernel.name(), cuda.staticSharedBytes(),
                        cuda.usesBarrier() ? ", barriers" : "", cuda.signature());
            }
        }
        if (args.has("show")) {
            String wanted = args.get("show", "");
            GpuKernel kernel = kernels.stream().filter(k -> k.name().equals(wanted)).findFirst()
                    .orElseThrow(() -> new UsageException("no kernel named '" + wanted + "' (see ./nvlm kernels --list)"));
            System.out.print(kernel.cuda(arch).source());
        }
        if (args.has("dump")) {
            List<Path> files = GpuKernel.writeCudaSources(args.getPath("dump", null), kernels, arch);
            System.out.println("wrote " + files.size() + " CUDA C files for " + arch + " to " + args.get("dump", ""));
        }
        return 0;
    }
}
