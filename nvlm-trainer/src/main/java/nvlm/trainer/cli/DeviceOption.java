package nvlm.trainer.cli;

import nvlm.tensor.Device;
import picocli.CommandLine.Option;

/** {@code --device}, for {@code @Mixin}: where a command's model runs. */
public final class DeviceOption {
    @Option(names = "--device", paramLabel = "D", defaultValue = "cpu", description = "cpu or cuda (default ${DEFAULT-VALUE}):"
            + " where the model runs; cuda needs an NVIDIA GPU with its driver, cuBLAS and NVRTC (./nvlm kernels --help)")
    public Device device;
}
