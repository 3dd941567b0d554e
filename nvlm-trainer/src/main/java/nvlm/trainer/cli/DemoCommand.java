package nvlm.trainer.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import nvlm.model.Architecture;
import nvlm.tensor.Device;
import nvlm.trainer.pipeline.Demo;
import nvlm.trainer.pipeline.DemoRecipe;
import nvlm.trainer.train.ProgressBar;

/** {@code ./nvlm demo}: the whole pipeline at the tiny preset on the embedded world. */
public final class DemoCommand implements Command {
    static final String USAGE = """
            usage: ./nvlm demo [--arch d|x|h] [--out DIR] [--seed S] [options]

            The whole NVLM pipeline at the tiny preset on the embedded synthetic world, on the CPU:
              stage 0  the backbones: the vision encoder and the LLM, pretrained on the world by
                       ./nvlm pretrain-backbones --seed 1 and shipped with this build (or --backbones DIR);
                       their text-only accuracy is measured first (the baseline of the paper's Table 8)
              stage 1  LLM frozen: trains the projector (D), the cross-attention blocks and the 1-layer
                       projector (X), or both (H), on captioning and the image tasks
              stage 2  SFT: the LLM trains too (the vision encoder stays frozen), with text-only tasks mixed in
              eval     exact match per task family on the test split (./nvlm eval), then the report
            Prints the evaluation table and where the model and report are.

              --arch d|x|h         NVLM-D (decoder-only, default), NVLM-X (cross-attention) or NVLM-H (hybrid)
              --out DIR            output folder (default runs/demo-<arch>): backbones/, stage1/, stage2/ (run
                                   folders with metrics.jsonl), model/ (the final model), eval.json (family ->
                                   accuracy), demo.json (settings, timings), report.html + loss/lr/accuracy PNGs.
                                   A folder a previous demo wrote is reused (its stage folders are replaced)
              --seed S             seed of stages 1 and 2: new weights (projector, cross-attention), data order
                                   (default 1); the world and the backbones are the backbones' (seed 1 shipped)
              --backbones DIR      start from these backbones (./nvlm pretrain-backbones --out DIR, or a model
                                   folder of the same shapes) instead of the shipped ones
              --stage1-steps N     stage 1 optimizer steps (default: the demo recipe's)
              --stage2-steps N     stage 2 optimizer steps
              --samples N          test examples per image family (default 200)
              --text-samples N     test examples per text-only family (default 400)
              --device D           cpu (default) or cuda: where stages 1 and 2 and the evaluation run (cuda needs
                                   an NVIDIA GPU with its driver, cuBLAS and NVRTC; see ./nvlm kernels --help)
              --progress M         auto | bar | lines | off (default auto)
              --help               this text

            Same seed, same result (bit for bit on the same thread count).
            """;

    private final PrintStream out;

    public DemoCommand() {
        this(System.out);
    }

    DemoCommand(PrintStream out) {
        this.out = out;
    }

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "the main job: backbones, stage 1, stage 2, evaluation and report at the tiny preset (--arch d|x|h)";
    }

    @Override
    public int run(List<String> words) throws Exception {
        Args args = Args.parse(name(), words, Set.of("arch", "out", "seed", "backbones", "stage1-steps", "stage2-steps", "samples",
                "text-samples", "progress", "device"), Set.of("help"));
        if (args.has("help")) {
            out.print(USAGE);
            return 0;
        }
        if (!args.positional().isEmpty()) {
            throw new UsageException("unexpected argument '" + args.positional().getFirst() + "' (see ./nvlm demo --help)");
        }
        Architecture arch = architecture(args.get("arch", "d"));
        long seed = args.getLong("seed", 1);
        DemoRecipe recipe = DemoRecipe.of(arch, seed);
        int s1 = args.getInt("stage1-steps", recipe.stage1().totalSteps());
        int s2 = args.getInt("stage2-steps", recipe.stage2().totalSteps());
        if (s1 < 1 || s2 < 1) {
            throw new UsageException("--stage1-steps and --stage2-steps must be >= 1, got " + s1 + ", " + s2);
        }
        recipe = recipe.withSteps(s1, s2).withEvalSamples(EvalCommand.nonNegative(args, "samples", recipe.evalSamples()),
                EvalCommand.nonNegative(args, "text-samples", recipe.textEvalSamples()));
        Path outDir = args.getPath("out", Path.of("runs", "demo-" + arch.name().toLowerCase(Locale.ROOT)));
        Device device;
        try {
            device = Device.parse(args.get("device", "cpu"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--device: " + e.getMessage());
        }
        Demo.run(new Demo.Settings(arch, "tiny", seed, outDir, args.getPath("backbones", null), recipe, progress(args), out, device));
        return 0;
    }

    static Architecture architecture(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "d" -> Architecture.D;
            case "x" -> Architecture.X;
            case "h" -> Architecture.H;
            default -> throw new UsageException("--arch must be d, x or h, got '" + text + "'");
        };
    }

    static ProgressBar.Mode progress(Args args) {
        return switch (args.get("progress", "auto").toLowerCase(Locale.ROOT)) {
            case "auto" -> ProgressBar.Mode.auto();
            case "bar" -> ProgressBar.Mode.BAR;
            case "lines" -> ProgressBar.Mode.LINES;
            case "off" -> ProgressBar.Mode.OFF;
            default -> throw new UsageException("--progress must be auto, bar, lines or off, got '" + args.get("progress", "") + "'");
        };
    }
}
