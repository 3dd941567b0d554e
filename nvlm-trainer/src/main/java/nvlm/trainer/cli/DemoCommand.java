package nvlm.trainer.cli;

import java.nio.file.Path;
import java.util.Locale;
import nvlm.model.config.Architecture;
import nvlm.trainer.pipeline.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./nvlm demo}: the whole pipeline at the tiny preset on the embedded world. */
@Command(name = "demo",
        header = "the main job: backbones, stage 1, stage 2, evaluation and report at the tiny preset (--arch d|x|h)",
        description = """
                The whole NVLM pipeline at the tiny preset on the embedded synthetic world, on the CPU:
                  stage 0  the backbones: the vision encoder and the LLM, pretrained on the world by
                           ./nvlm pretrain-backbones --seed 1 and shipped with this build (or --backbones DIR);
                           their text-only accuracy is measured first (the baseline of the paper's Table 8)
                  stage 1  LLM frozen: trains the projector (D), the cross-attention blocks and the 1-layer
                           projector (X), or both (H), on captioning and the image tasks
                  stage 2  SFT: the LLM trains too (the vision encoder stays frozen), with text-only tasks mixed in
                  eval     exact match per task family on the test split (./nvlm eval), then the report
                Prints the evaluation table and where the model and report are.""",
        footer = "%nSame seed, same result (bit for bit on the same thread count).")
public final class DemoCommand implements NvlmCommand {
    @Option(names = "--arch", paramLabel = "d|x|h", defaultValue = "d",
            description = "NVLM-D (decoder-only, default), NVLM-X (cross-attention) or NVLM-H (hybrid)")
    Architecture arch;
    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default runs/demo-<arch>): backbones/, stage1/,"
            + " stage2/ (run folders with metrics.jsonl), model/ (the final model), eval.json (family -> accuracy), demo.json"
            + " (settings, timings), report.html + loss/lr/accuracy PNGs. A folder a previous demo wrote is reused (its stage"
            + " folders are replaced)")
    Path out;
    @Mixin
    DemoRecipeOptions recipe;
    @Mixin
    SeedOption seed;
    @Mixin
    DeviceOption device;
    @Mixin
    ProgressOption progress;

    @Override
    public Integer call() throws Exception {
        Path dir = out != null ? out : Path.of("runs", "demo-" + arch.name().toLowerCase(Locale.ROOT));
        Demo.run(new Demo.Settings(arch, "tiny", seed.seed, dir, recipe.backbones, recipe.recipe(arch, seed.seed), progress.mode, System.out,
                device.device));
        return 0;
    }
}
