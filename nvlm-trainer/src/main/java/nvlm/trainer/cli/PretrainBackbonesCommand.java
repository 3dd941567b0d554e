package nvlm.trainer.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import nvlm.trainer.backbone.BackbonePretraining;
import nvlm.trainer.backbone.BackboneRecipe;
import nvlm.trainer.backbone.Backbones;

/** {@code ./nvlm pretrain-backbones}: stage 0, the vision encoder and the LLM trained on the world. */
public final class PretrainBackbonesCommand implements Command {
    static final String USAGE = """
            usage: ./nvlm pretrain-backbones --seed S [--out DIR] [options]

            Stage 0 (not in the paper, which starts from pretrained InternViT and Qwen2 weights that cannot be
            downloaded here): trains the tiny preset's two backbones on the embedded synthetic world.
              vision   InternViT with a throwaway linear head on its pixel-shuffled tokens, telling what each image
                       token's cell shows (a glyph, a coloured shape, a bar, or empty and which image edges it
                       touches); only the encoder is kept
              LLM      the decoder alone on the world's text in chat format: the text-only tasks, and every image
                       task with the picture written out as one symbol per image token in the layout NVLM-D's
                       image tokens have (the "cells view"), or as its caption
            Stage 1 then only has to teach the projector to turn each token's features into what the decoder
            already reads. The result is a model folder (BF16) with a manifest (backbones.json: the recipe and
            its hash, the weights' SHA-256, what the backbones measure on the test split); ./nvlm demo and
            ./nvlm train start from it with --backbones DIR. The build ships the result of --seed 1 (defaults);
            running that again reproduces the same weights (on the same number of threads; use --verify).

              --seed S             seed of everything: initialization, data order, the world's splits (required)
              --out DIR            output folder (default runs/backbones-seed<S>); the decoder's run folder
                                   (DIR/text) resumes if it holds a checkpoint
              --text-steps N       decoder optimizer steps (default 3000)
              --vision-steps N     vision optimizer steps (default 1500)
              --eval-samples N     test examples per family (and test pictures) measured at the end (default
                                   200; 0 skips the measurement)
              --verify             compare the weights made with the shipped backbones' (needs the default recipe
                                   and --seed 1); exit status 1 if they differ
              --progress M         auto | bar | lines | off (default auto)
              --help               this text
            """;

    private final PrintStream out;

    public PretrainBackbonesCommand() {
        this(System.out);
    }

    PretrainBackbonesCommand(PrintStream out) {
        this.out = out;
    }

    @Override
    public String name() {
        return "pretrain-backbones";
    }

    @Override
    public String summary() {
        return "stage 0: pretrain the tiny vision encoder and LLM on the world (the demo ships the result of --seed 1)";
    }

    @Override
    public int run(List<String> words) throws Exception {
        Args args = Args.parse(name(), words, Set.of("seed", "out", "text-steps", "vision-steps", "eval-samples", "progress"),
                Set.of("help", "verify"));
        if (args.has("help")) {
            out.print(USAGE);
            return 0;
        }
        if (!args.positional().isEmpty()) {
            throw new UsageException("unexpected argument '" + args.positional().getFirst() + "' (see ./nvlm pretrain-backbones --help)");
        }
        long seed = Long.parseLong(args.require("seed").strip());
        BackboneRecipe recipe = BackboneRecipe.defaults(seed);
        int textSteps = args.getInt("text-steps", recipe.textSteps());
        int visionSteps = args.getInt("vision-steps", recipe.visionSteps());
        if (textSteps < 1 || visionSteps < 1) {
            throw new UsageException("--text-steps and --vision-steps must be >= 1, got " + textSteps + ", " + visionSteps);
        }
        recipe = recipe.withSteps(textSteps, visionSteps).withEvalSamples(EvalCommand.nonNegative(args, "eval-samples",
                recipe.evalSamples()));
        Path dir = args.getPath("out", Path.of("runs", "backbones-seed" + seed));
        Map<String, Object> manifest = BackbonePretraining.run(recipe, dir, System.err, DemoCommand.progress(args));
        out.println("backbones: " + dir + " (weights sha256 " + manifest.get("weights_sha256") + ")");
        if (args.has("verify")) {
            if (!Backbones.shipped()) {
                out.println("verify: this build ships no backbones to compare with");
                return 1;
            }
            Map<String, Object> shipped = Backbones.shippedManifest();
            boolean sameRecipe = shipped.get("recipe_hash").equals(manifest.get("recipe_hash"));
            boolean sameWeights = shipped.get("weights_sha256").equals(manifest.get("weights_sha256"));
            out.println("verify: recipe " + (sameRecipe ? "matches" : "differs from") + " the shipped backbones', weights "
                    + (sameWeights ? "are identical" : "differ") + " (shipped " + shipped.get("weights_sha256") + ", made on "
                    + shipped.get("threads") + " threads)");
            return sameRecipe && sameWeights ? 0 : 1;
        }
        return 0;
    }
}
