package nvlm.trainer.experiment;

import nvlm.model.config.Architecture;
import nvlm.trainer.cli.DeviceOption;
import nvlm.trainer.cli.OptionTypes;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** What a timed training step runs on ({@code @Mixin} of experiment throughput and bench train): model shapes, batch, device. */
public final class ThroughputOptions {
    @Option(names = "--preset", paramLabel = "P", description = "model shapes, tiny or small (default ${DEFAULT-VALUE})")
    public String preset = "small";
    @Option(names = "--rows", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "samples per step, each one 6+1-tile image (default ${DEFAULT-VALUE})")
    public int rows = 2;
    @Option(names = "--seed", paramLabel = "S", description = "seed of the weights and the batch (default ${DEFAULT-VALUE})")
    public long seed = 0;
    @Mixin
    public DeviceOption device;

    /** A model of {@code arch} and its batch, ready to time. */
    public TrainingThroughput model(Architecture arch) {
        return new TrainingThroughput(arch, preset, rows, seed, device.device);
    }
}
