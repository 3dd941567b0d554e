package nvlm.trainer.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import nvlm.model.ModelFolder;
import nvlm.model.Nvlm;
import nvlm.model.tiling.TagMode;
import nvlm.tensor.Device;
import nvlm.tensor.io.Json;
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

/** {@code ./nvlm eval}: exact-match accuracy per task family of the synthetic world. */
public final class EvalCommand implements Command {
    static final String USAGE = """
            usage: ./nvlm eval --model DIR [--split test] [--json] [--samples N] [options]

            Greedy generation with the KV cache on the synthetic world's examples, each answer compared with the
            reference by exact match after trimming white space. Prints a table of accuracy per task family,
            image families first, the text-only families (text_arithmetic, text_string) apart. Captioning is not
            scored: it is stage-1 data, and a long caption is right only if every item is.

              --model DIR          model folder (config.json + model.safetensors), e.g. runs/demo-d/model
              --split S            test (default), validation or train
              --json               print one JSON object instead of the table: family -> accuracy in [0, 1],
                                   e.g. {"ocr":0.9,"counting":0.8,...,"text_arithmetic":0.7,"text_string":0.6}
              --samples N          examples per image family (default 200): the first N of the split
              --text-samples N     examples per text-only family (default: as --samples)
              --families LIST      comma-separated families to score (default: ocr,counting,spatial,chart,
                                   text_arithmetic,text_string)
              --view V             image (default): the pictures; cells: each picture as one symbol per image
                                   token in text (how the stage-0 decoder is measured); described: its caption
              --world-seed S       the world's seed (default: the model folder's world.json, else 1, the seed of
                                   the shipped backbones); it decides the splits, so use the one trained on
              --show N             also print the first N wrong answers of each family
              --max-new-tokens N   longest answer generated (default 24)
              --device D           cpu (default) or cuda
              --help               this text
            """;

    private final PrintStream out;

    public EvalCommand() {
        this(System.out);
    }

    EvalCommand(PrintStream out) {
        this.out = out;
    }

    @Override
    public String name() {
        return "eval";
    }

    @Override
    public String summary() {
        return "exact-match accuracy per task family on the synthetic world (table, or --json)";
    }

    @Override
    public int run(List<String> words) throws IOException {
        Args args = Args.parse(name(), words, Set.of("model", "split", "samples", "text-samples", "families", "view", "world-seed",
                "show", "max-new-tokens", "device"), Set.of("help", "json"));
        if (args.has("help")) {
            out.print(USAGE);
            return 0;
        }
        if (!args.positional().isEmpty()) {
            throw new UsageException("unexpected argument '" + args.positional().getFirst() + "' (see ./nvlm eval --help)");
        }
        Path dir = Path.of(args.require("model"));
        Split split = split(args.get("split", "test"));
        int samples = nonNegative(args, "samples", 200);
        int textSamples = nonNegative(args, "text-samples", samples);
        View view = view(args.get("view", "image"));
        List<Family> families = families(args.get("families", null));
        int show = nonNegative(args, "show", 0);
        int maxNew = args.getInt("max-new-tokens", Evaluation.MAX_NEW_TOKENS);
        if (maxNew < 1) {
            throw new UsageException("--max-new-tokens must be >= 1, got " + maxNew);
        }
        Device device;
        try {
            device = Device.parse(args.get("device", "cpu"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--device: " + e.getMessage());
        }
        ModelFolder folder = ModelFolder.open(dir);
        long worldSeed = args.getLong("world-seed", worldSeed(dir));
        SyntheticWorld world = new SyntheticWorld(WorldConfig.forModel(folder.config(), worldSeed));
        SampleEncoder encoder = SampleEncoder.forConfig(folder.config(), folder.tokenizer(), SampleEncoder.Options.defaults());
        TagMode tagMode = encoder.tagMode();
        Map<String, List<Example>> examples = new LinkedHashMap<>();
        Evaluation.worldExamples(world, split, samples, textSamples, view, tagMode).forEach((family, list) -> {
            if (families.contains(Family.parse(family)) && !list.isEmpty()) {
                examples.put(family, list);
            }
        });
        Nvlm model = folder.load(device);
        EvalResult result = Evaluation.run(model, encoder, examples, maxNew, null);
        if (args.has("json")) {
            out.println(result.toJson());
        } else {
            out.printf(Locale.ROOT, "%s, %s split of the world (seed %d), %s view; greedy, exact match%n", dir, split.id(), worldSeed,
                    view.id());
            out.print(result.table());
        }
        if (show > 0) {
            Map<String, Integer> shown = new LinkedHashMap<>();
            for (Prediction p : result.predictions()) {
                if (!p.correct() && shown.merge(p.family(), 1, Integer::sum) <= show) {
                    out.printf(Locale.ROOT, "  %s: %s -> '%s' (expected '%s')%n", p.id(), p.question().replace("\n", " | "), p.generated(),
                            p.reference());
                }
            }
        }
        return 0;
    }

    /** The world seed a model folder was trained on ({@value Demo#WORLD_JSON}), else 1 (the shipped backbones'). */
    static long worldSeed(Path modelDir) throws IOException {
        Path file = modelDir.resolve(Demo.WORLD_JSON);
        if (Files.exists(file) && Json.parseObject(Files.readString(file)).get("world_seed") instanceof Long seed) {
            return seed;
        }
        return 1;
    }

    static Split split(String text) {
        for (Split s : Split.values()) {
            if (s.id().equals(text)) {
                return s;
            }
        }
        throw new UsageException("--split must be train, validation or test, got '" + text + "'");
    }

    static View view(String text) {
        for (View v : View.values()) {
            if (v.id().equals(text)) {
                return v;
            }
        }
        throw new UsageException("--view must be image, cells or described, got '" + text + "'");
    }

    static List<Family> families(String list) {
        List<Family> out = new ArrayList<>();
        if (list == null) {
            out.addAll(Evaluation.families());
            return out;
        }
        for (String name : list.split(",")) {
            Family f;
            try {
                f = Family.parse(name);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--families: " + e.getMessage());
            }
            if (!f.exactMatch()) {
                throw new UsageException("--families: " + f.id() + " is not scored by exact match (see ./nvlm eval --help)");
            }
            out.add(f);
        }
        return out;
    }

    static int nonNegative(Args args, String name, int fallback) {
        int v = args.getInt(name, fallback);
        if (v < 0) {
            throw new UsageException("--" + name + " must be >= 0, got " + v);
        }
        return v;
    }
}
