package nvlm.kernels.translator;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * One launch of a kernel: the grid and the Java arguments (without the context). Runs on the CPU
 * here; a CUDA runtime launches the same object on the GPU from {@link GpuKernel#cuda(String)}
 * and {@link #cudaArguments}.
 */
public record KernelLaunch(GpuKernel kernel, LaunchConfig config, List<Object> arguments) {
    public KernelLaunch {
        arguments = List.copyOf(arguments);
    }

    /** Runs the kernel's Java method over the grid on the CPU. */
    public void runOnCpu() {
        kernel.runOnCpu(config, arguments.toArray());
    }

    /**
     * The value of each C parameter in order: buffers become the device address
     * {@code devicePointer} gives for them (a Long), booleans and small integers an Integer, other
     * scalars their own boxed type. A runtime writes each into an argument slot of
     * {@link CudaParameter#byteSize()} bytes for {@code cuLaunchKernel}.
     */
    public List<Object> cudaArguments(ToLongFunction<Buffer> devicePointer) {
        List<Object> values = new ArrayList<>(arguments.size());
        for (Object argument : arguments) {
            values.add(switch (argument) {
                case Buffer buffer -> devicePointer.applyAsLong(buffer);
                case Boolean b -> b ? 1 : 0;
                case Byte b -> (int) b;
                case Short s -> (int) s;
                case Character c -> (int) c;
                default -> argument;
            });
        }
        return values;
    }

    @Override
    public String toString() {
        return kernel.name() + " " + config;
    }
}
