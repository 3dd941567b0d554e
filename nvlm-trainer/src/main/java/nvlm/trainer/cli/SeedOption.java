package nvlm.trainer.cli;

import picocli.CommandLine.Option;

/** {@code --seed} of a run of stages 1 and 2 ({@code @Mixin} of {@code ./nvlm demo} and the world experiments). */
public final class SeedOption {
    @Option(names = "--seed", paramLabel = "S", description = "seed of stages 1 and 2: new weights (projector, cross-attention) and"
            + " data order (default ${DEFAULT-VALUE}); the world is the backbones' (their backbones.json world_seed, 1 shipped)")
    public long seed = 1;
}
