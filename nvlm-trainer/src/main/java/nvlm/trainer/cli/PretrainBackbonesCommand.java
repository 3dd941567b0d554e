package nvlm.trainer.cli;

import java.nio.file.Path;
import java.util.Map;
import nvlm.trainer.backbone.BackbonePretraining;
import nvlm.trainer.recipe.BackboneRecipe;
import nvlm.trainer.backbone.Backbones;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import nvlm.trainer.recipe.Stage;

/** {@code ./nvlm pretrain-backbones}: stage 0, the vision encoder and the LLM trained on the world. */
@Command(name = "pretrain-backbones",
        header = "stage 0: pretrain the tiny vision encoder and LLM on the world (the demo ships the result of --seed 1)",
        description = """
                Stage 0 (not in the paper, which starts from pretrained InternViT and Qwen2 weights that cannot be
                downloaded here): trains the tiny preset's two backbones on the embedded synthetic world.
                  vision   InternViT with a throwaway linear head on its pixel-shuffled tokens, telling what each image
                           token's cell shows (a glyph, a coloured shape, a bar, or empty and which image edges it
                           touches); only the encoder is kept
                  LLM      the decoder alone on the world's text in chat format: the text-only tasks, and every image
                           task with the picture described in words (its caption) before the question; no image
                           token and no tile tag, so it favours none of NVLM-D, -X and -H, as the paper starts all
                           three from the same text-only LLM
                The result is a model folder (BF16) with a manifest (backbones.json: the recipe and
                its hash, the weights' SHA-256, what the backbones measure on the test split); ./nvlm demo and
                ./nvlm train start from it with --backbones DIR. The build ships the result of --seed 1 (defaults);
                running that again reproduces the same weights (on the same number of threads; use --verify).""")
public final class PretrainBackbonesCommand implements NvlmCommand {
    private static final BackboneRecipe RECIPE = BackboneRecipe.defaults(1);

    @Option(names = "--seed", required = true, paramLabel = "S",
            description = "seed of everything: initialization, data order, the world's splits")
    long seed;
    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default runs/backbones-seed<S>); the decoder's run"
            + " folder (DIR/text) resumes if it holds a checkpoint")
    Path out;
    @Option(names = "--text-steps", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "decoder optimizer steps (default ${DEFAULT-VALUE})")
    int textSteps = RECIPE.textSteps();
    @Option(names = "--vision-steps", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "vision optimizer steps (default ${DEFAULT-VALUE})")
    int visionSteps = RECIPE.visionSteps();
    @Option(names = "--eval-samples", paramLabel = "N", converter = OptionTypes.NonNegative.class, description = "test examples"
            + " per family (and test pictures) measured at the end (default ${DEFAULT-VALUE}; 0 skips the measurement)")
    int evalSamples = RECIPE.evalSamples();
    @Option(names = "--rows-share", paramLabel = "F", description = "share of each image task's decoder text that writes the"
            + " picture as rows of cell symbols instead of describing it in words, 0..1 (default ${DEFAULT-VALUE}: none; an"
            + " experiment, see docs/results.md)")
    double rowsShare = RECIPE.rowsShare();
    @Option(names = "--verify", description = "compare the weights made with the shipped backbones' (needs the default recipe"
            + " and --seed 1); exit status 1 if they differ")
    boolean verify;
    @Mixin
    ProgressOption progress;

    @Override
    public Integer call() throws Exception {
        BackboneRecipe recipe = BackboneRecipe.defaults(seed).withSteps(textSteps, visionSteps).withEvalSamples(evalSamples)
                .withRowsShare(rowsShare);
        Path dir = out != null ? out : Path.of("runs", "backbones-seed" + seed);
        Map<String, Object> manifest = BackbonePretraining.run(recipe, dir, System.err, progress.mode);
        System.out.println("backbones: " + dir + " (weights sha256 " + manifest.get("weights_sha256") + ")");
        if (!verify) {
            return 0;
        }
        if (!Backbones.shipped()) {
            System.out.println("verify: this build ships no backbones to compare with");
            return 1;
        }
        Map<String, Object> shipped = Backbones.shippedManifest();
        boolean sameRecipe = shipped.get("recipe_hash").equals(manifest.get("recipe_hash"));
        boolean sameWeights = shipped.get("weights_sha256").equals(manifest.get("weights_sha256"));
        System.out.println("verify: recipe " + (sameRecipe ? "matches" : "differs from") + " the shipped backbones', weights "
                + (sameWeights ? "are identical" : "differ") + " (shipped " + shipped.get("weights_sha256") + ", made on "
                + shipped.get("threads") + " threads)");
        return sameRecipe && sameWeights ? 0 : 1;
    }
}
