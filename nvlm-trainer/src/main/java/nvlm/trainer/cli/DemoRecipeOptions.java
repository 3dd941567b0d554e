package nvlm.trainer.cli;

import java.nio.file.Path;
import nvlm.model.config.Architecture;
import nvlm.trainer.recipe.DemoRecipe;
import picocli.CommandLine.Option;

/**
 * The options of a run of the demo's recipe from the backbones ({@code @Mixin} of
 * {@code ./nvlm demo} and the world experiments): which backbones, step counts, learning-rate
 * factors, test examples. The seed is {@link SeedOption} (the comparison takes several).
 */
public final class DemoRecipeOptions {
    private static final DemoRecipe DEMO = DemoRecipe.of(Architecture.D, 1);

    @Option(names = "--backbones", paramLabel = "DIR", description = "start from these backbones (./nvlm pretrain-backbones --out"
            + " DIR, or a model folder of the tiny preset's shapes) instead of the ones shipped with this build")
    public Path backbones;
    @Option(names = "--stage1-steps", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "stage 1 optimizer steps (default ${DEFAULT-VALUE}, the demo's)")
    int stage1Steps = DEMO.stage1().totalSteps();
    @Option(names = "--stage2-steps", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "stage 2 optimizer steps (default ${DEFAULT-VALUE}, the demo's)")
    int stage2Steps = DEMO.stage2().totalSteps();
    @Option(names = "--stage1-lr-scale", paramLabel = "F", description = "stage 1's learning rates: the paper's times F"
            + " (default ${DEFAULT-VALUE}; the same F for every architecture keeps the paper's relative rates)")
    double stage1Scale = DemoRecipe.STAGE1_RATE_SCALE;
    @Option(names = "--stage2-lr-scale", paramLabel = "F", description = "stage 2's learning rates: the paper's times F"
            + " (default ${DEFAULT-VALUE}: D 2e-4, X and H 1e-3, the paper's 5x)")
    double stage2Scale = DemoRecipe.STAGE2_RATE_SCALE;
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

    /** The demo's recipe for {@code arch} and {@code seed} with these options. */
    public DemoRecipe recipe(Architecture arch, long seed) {
        if (!(stage1Scale > 0) || !(stage2Scale > 0) || Double.isInfinite(stage1Scale) || Double.isInfinite(stage2Scale)) {
            throw new UsageException("--stage1-lr-scale and --stage2-lr-scale must be positive and finite, got " + stage1Scale
                    + " and " + stage2Scale);
        }
        return DemoRecipe.of(arch, seed, stage1Scale, stage2Scale).withSteps(stage1Steps, stage2Steps)
                .withEvalSamples(samples, textSamples);
    }
}
