package nvlm.trainer.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import nvlm.model.checkpoint.ModelFolder;
import nvlm.model.Nvlm;
import nvlm.model.xattn.GatedCrossAttention;
import nvlm.tensor.GradMode;
import nvlm.trainer.data.Example;
import nvlm.trainer.data.Family;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.View;
import nvlm.trainer.data.WorldConfig;
import nvlm.trainer.eval.EvalResult;
import nvlm.trainer.eval.Evaluation;
import nvlm.trainer.eval.Prediction;
import nvlm.trainer.pipeline.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./nvlm eval}: exact-match accuracy per task family of the synthetic world. */
@Command(name = "eval", header = "exact-match accuracy per task family on the synthetic world (table, or --json)",
        description = """
                Greedy generation with the KV cache on the synthetic world's examples, each answer compared with the
                reference by exact match after trimming white space. Prints a table of accuracy per task family,
                image families first, the text-only families (text_arithmetic, text_string) apart. Captioning is not
                scored: it is stage-1 data, and a long caption is right only if every item is.""")
public final class EvalCommand implements NvlmCommand {
    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "model folder (config.json + model.safetensors), e.g. runs/demo-d/model")
    Path model;
    @Option(names = "--split", paramLabel = "S", defaultValue = "test", description = "train, validation or test (default"
            + " ${DEFAULT-VALUE})")
    Split split;
    @Option(names = "--json", description = "print one JSON object instead of the table: family -> accuracy in [0, 1],"
            + " e.g. {\"ocr\":0.9,\"counting\":0.8,...,\"text_arithmetic\":0.7,\"text_string\":0.6}")
    boolean json;
    @Option(names = "--samples", paramLabel = "N", converter = OptionTypes.NonNegative.class,
            description = "examples per image family (default ${DEFAULT-VALUE}): the first N of the split")
    int samples = 200;
    @Option(names = "--text-samples", paramLabel = "N", converter = OptionTypes.NonNegative.class,
            description = "examples per text-only family (default: as --samples)")
    Integer textSamples;
    @Option(names = "--families", paramLabel = "FAMILY", split = ",", description = "comma-separated families to score (default: every"
            + " family scored by exact match: the image families, then text_arithmetic and text_string)")
    List<Family> families = Evaluation.families();
    @Option(names = "--view", paramLabel = "V", defaultValue = "image", description = "image (default): the pictures; described: each"
            + " picture's caption in words in its place (how the stage-0 decoder is measured); cells, a diagnostic: each"
            + " picture as one symbol per image token in NVLM-D's layout, what a decoder reads from a perfect projector; rows:"
            + " each picture as lines of cell symbols in no architecture's layout (pretrain-backbones --rows-share)")
    View view;
    @Option(names = "--world-seed", paramLabel = "S", description = "the world's seed (default: the model folder's world.json,"
            + " else 1, the seed of the shipped backbones); it decides the splits, so use the one trained on")
    Long worldSeed;
    @Option(names = "--show", paramLabel = "N", converter = OptionTypes.NonNegative.class,
            description = "also print the first N wrong answers of each family (default ${DEFAULT-VALUE})")
    int show = 0;
    @Option(names = "--max-new-tokens", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "longest answer generated (default ${DEFAULT-VALUE})")
    int maxNewTokens = Evaluation.MAX_NEW_TOKENS;
    @Option(names = "--no-memory", description = "X and H: set every cross-attention gate to 0 before evaluating, a diagnostic of how"
            + " much the answers come from the memory (X then sees no picture at all, H only its thumbnail)")
    boolean noMemory;
    @Mixin
    DeviceOption device;
    @Mixin
    ProgressOption progress;

    @Override
    public Integer call() throws Exception {
        for (Family f : families) {
            if (!f.exactMatch()) {
                throw new UsageException("--families: " + f.id() + " is not scored by exact match (see ./nvlm eval --help)");
            }
        }
        ModelFolder folder = ModelFolder.open(model);
        if (noMemory && folder.config().crossAttentionBlocks() == 0) {
            throw new UsageException("--no-memory: " + model + " holds an NVLM-" + folder.config().architecture()
                    + " model without cross-attention blocks");
        }
        long seed = worldSeed != null ? worldSeed : Demo.worldSeed(model);
        SyntheticWorld world = new SyntheticWorld(WorldConfig.forModel(folder.config(), seed));
        SampleEncoder encoder = SampleEncoder.forConfig(folder.config(), folder.tokenizer(), SampleEncoder.Options.defaults());
        Map<String, List<Example>> examples = new LinkedHashMap<>();
        Evaluation.worldExamples(world, split, samples, textSamples != null ? textSamples : samples, view, encoder.tagMode())
                .forEach((family, list) -> {
                    if (families.contains(Family.parse(family)) && !list.isEmpty()) {
                        examples.put(family, list);
                    }
                });
        Nvlm loaded = progress.loadModel(folder, device.device);
        if (noMemory) {
            closeGates(loaded);
        }
        EvalResult result = Evaluation.run(loaded, encoder, examples, maxNewTokens, progress.mode, System.err);
        if (json) {
            System.out.println(result.toJson());
        } else {
            System.out.printf(Locale.ROOT, "%s%s, %s split of the world (seed %d), %s view; greedy, exact match%n", model,
                    noMemory ? " with every cross-attention gate at 0" : "", split.id(), seed, view.id());
            System.out.print(result.table());
        }
        Map<String, Integer> shown = new LinkedHashMap<>();
        for (Prediction p : result.predictions()) {
            if (!p.correct() && shown.merge(p.family(), 1, Integer::sum) <= show) {
                System.out.printf(Locale.ROOT, "  %s: %s -> '%s' (expected '%s')%n", p.id(), p.question().replace("\n", " | "),
                        p.generated(), p.reference());
            }
        }
        return 0;
    }

    /** Every cross-attention block's gates set to 0: both residual terms vanish (docs/model.md §7). */
    static void closeGates(Nvlm model) {
        try (var noGrad = GradMode.disabled()) {
            for (GatedCrossAttention block : model.languageModel().crossAttentionBlocks()) {
                block.attnGate().set(block.attnGate().value().mul(0.0));
                block.ffGate().set(block.ffGate().value().mul(0.0));
            }
        }
    }
}
