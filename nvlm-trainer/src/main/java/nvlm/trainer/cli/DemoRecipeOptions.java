package nvlm.trainer.cli;

import java.nio.file.Path;
import nvlm.model.config.Architecture;
import nvlm.trainer.recipe.DemoRecipe;
import picocli.CommandLine.Option;

/**
 * The options of a run of the demo's recipe from the backbones ({@code @Mixin} of
 * {@code ./nvlm demo} and the world experiments): which backbones, seed, step counts, test examples.
 */
public final class DemoRecipeOptions {
    private static final DemoRecipe DEMO = DemoRecipe.of(Architecture.D, 1);

    @Option(names = "--backbones", paramLabel = "DIR", description = "start from these backbones (./nvlm pretrain-backbones --out"
            + " DIR, or a model folder of the tiny preset's shapes) instead of the ones shipped with this build")
    public Path backbones;
    @Option(names = "--seed", paramLabel = "S", description = "seed of stages 1 and 2: new weights (projector, cross-attention) and"
            + " data order (default ${DEFAULT-VALUE}); the world is the backbones' (their backbones.json world_seed, 1 shipped)")
    public long seed = 1;
    @Option(names = "--stage1-steps", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "stage 1 optimizer steps (default ${DEFAULT-VALUE}, the demo's)")
    int stage1Steps = DEMO.stage1().totalSteps();
    @Option(names = "--stage2-steps", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "stage 2 optimizer steps (default ${DEFAULT-VALUE}, the demo's)")
    int stage2Steps = DEMO.stage2().totalSteps();
    @Option(names = "--samples", paramLabel = "N", converter = OptionTypes.NonNegative.class,
            description = "test examples per image family (default ${DEFAULT-VALUE})")
    int samples = DEMO.evalSamples();
    @Option(names = "--text-samples", paramLabel = "N", converter = OptionTypes.NonNegative.class,
            description = "test examples per text-only family (default ${DEFAULT-VALUE})")
    int textSamples;

    /** The demo's defaults. */
    public DemoRecipeOptions() {
        this(DEMO.textEvalSamples());
    }

    /** The demo's defaults, but {@code textSamples} test examples per text-only family. */
    public DemoRecipeOptions(int textSamples) {
        this.textSamples = textSamples;
    }

    /** The demo's recipe for {@code arch} with these options. */
    public DemoRecipe recipe(Architecture arch) {
        return DemoRecipe.of(arch, seed).withSteps(stage1Steps, stage2Steps).withEvalSamples(samples, textSamples);
    }
}
