package nvlm.trainer.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import nvlm.model.Batch;
import nvlm.model.ModelFolder;
import nvlm.model.prompt.Sample;
import nvlm.trainer.data.Blend;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.WorldConfig;
import nvlm.trainer.data.WorldDataset;

/** {@code ./nvlm batch}: a docs/model.md §10 batch file of synthetic-world samples encoded for a model. */
public final class BatchCommand implements Command {
    private static final String USAGE = """
            usage: ./nvlm batch --model DIR --seed S --out B.safetensors [--rows N] [--split train|validation|test]

            Draws N samples of the embedded synthetic world (images with small text, shapes and charts,
            and text-only tasks; the stage-2 blend) for the model in DIR, tiles and encodes them exactly as
            training does (the model's tile size, tiling and tag mode; its architecture's prompt layout,
            docs/model.md §6-§8) and writes the batch file of docs/model.md §10 (written to a temporary
            file, then renamed).

              --model DIR   the model folder (config.json; tokenizer.json if present)
              --seed S      which samples (default 0)
              --out FILE    the batch file to write
              --rows N      samples in the batch (default 4)
              --split S     world split to draw from (default train)
            """;

    @Override
    public String name() {
        return "batch";
    }

    @Override
    public String summary() {
        return "write a docs/model.md §10 batch file of synthetic image+text samples for a model";
    }

    @Override
    public int run(List<String> words) throws Exception {
        Args args = Args.parse(name(), words, Set.of("model", "seed", "out", "rows", "split"), Set.of("help"));
        if (args.has("help")) {
            System.out.print(USAGE);
            return 0;
        }
        ModelFolder folder = ModelFolder.open(Path.of(args.require("model")));
        long seed = args.getLong("seed", 0);
        int rows = args.getInt("rows", 4);
        if (rows < 1) {
            throw new UsageException("--rows must be at least 1");
        }
        Split split = Split.parse(args.get("split", "train"));
        SyntheticWorld world = new SyntheticWorld(WorldConfig.forModel(folder.config(), seed));
        WorldDataset data = new WorldDataset(world, split, Blend.stage2(0.2), rows);
        SampleEncoder encoder = SampleEncoder.forConfig(folder.config(), folder.tokenizer(), SampleEncoder.Options.defaults());
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            samples.add(encoder.encode(data.get(i)));
        }
        Batch batch = Batch.of(nvlm.model.prompt.Batch.collate(samples, encoder.padId()));
        Path out = Path.of(args.require("out"));
        batch.write(out);
        System.out.printf("wrote %s: %d rows x %d tokens, %d images, %d tiles%n", out, batch.rows(), batch.length(),
                batch.images(), batch.tiles());
        return 0;
    }
}
