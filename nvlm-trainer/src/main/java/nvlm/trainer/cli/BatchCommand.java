package nvlm.trainer.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import nvlm.model.Batch;
import nvlm.model.checkpoint.ModelFolder;
import nvlm.model.prompt.BatchArrays;
import nvlm.model.prompt.Sample;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.TaskBlend;
import nvlm.trainer.data.WorldConfig;
import nvlm.trainer.data.WorldDataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./nvlm batch}: a docs/model.md §10 batch file of synthetic-world samples encoded for a model. */
@Command(name = "batch", header = "write a docs/model.md §10 batch file of synthetic image+text samples for a model",
        description = """
                Draws N samples of the embedded synthetic world (images with small text, shapes and charts,
                and text-only tasks; the stage-2 blend) for the model in DIR, tiles and encodes them exactly as
                training does (the model's tile size, tiling and tag mode; its architecture's prompt layout,
                docs/model.md §6-§8) and writes the batch file of docs/model.md §10 (written to a temporary file, then renamed).""")
public final class BatchCommand implements NvlmCommand {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "the model folder (config.json; tokenizer.json"
            + " if present)")
    Path model;
    @Option(names = "--seed", paramLabel = "S", description = "which samples (default ${DEFAULT-VALUE})")
    long seed = 0;
    @Option(names = "--out", required = true, paramLabel = "FILE", description = "the batch file to write")
    Path out;
    @Option(names = "--rows", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "samples in the batch (default ${DEFAULT-VALUE})")
    int rows = 4;
    @Option(names = "--split", paramLabel = "S", defaultValue = "train", description = "world split to draw from (default"
            + " ${DEFAULT-VALUE})")
    Split split;

    @Override
    public Integer call() throws Exception {
        ModelFolder folder = ModelFolder.open(model);
        SyntheticWorld world = new SyntheticWorld(WorldConfig.forModel(folder.config(), seed));
        WorldDataset data = new WorldDataset(world, split, TaskBlend.stage2(0.2), rows);
        SampleEncoder encoder = SampleEncoder.forConfig(folder.config(), folder.tokenizer(), SampleEncoder.Options.defaults());
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            samples.add(encoder.encode(data.get(i)));
        }
        Batch batch = Batch.of(BatchArrays.collate(samples, encoder.padId()));
        batch.write(out);
        System.out.printf("wrote %s: %d rows x %d tokens, %d images, %d tiles%n", out, batch.rows(), batch.length(),
                batch.images(), batch.tiles());
        return 0;
    }
}
