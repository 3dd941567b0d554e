package nvlm.trainer.cli;

import java.nio.file.Path;
import java.util.SplittableRandom;
import nvlm.kernels.DType;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.checkpoint.FolderInspection;
import nvlm.model.checkpoint.ModelFolder;
import nvlm.model.checkpoint.RandomPublishedFolder;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.model.tokenizer.ProjectTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./nvlm init}: a freshly initialised model folder for a preset. */
@Command(name = "init", header = "write a freshly initialised model folder (config.json + safetensors) for a preset",
        description = """
                Writes DIR/config.json (docs/model.md §10), DIR/model.safetensors (docs/model.md §9 names) and, for the project's
                presets, DIR/tokenizer.json. Same seed, same weights.""")
public final class InitCommand implements NvlmCommand {
    @Option(names = "--arch", paramLabel = "A", description = "d (decoder-only), x (cross-attention) or h (hybrid); required"
            + " without --like")
    Architecture arch;
    @Option(names = "--like", paramLabel = "SRC", description = "a published folder (NVLM-D-72B, InternVL2) without weights: copy its"
            + " small files and write random weights in its layout (names, shapes, shards); --dtype bf16 for the published dtype")
    Path like;
    @Option(names = "--preset", paramLabel = "P", description = "tiny, small, nvlm-d-72b or internvl2-1b (default ${DEFAULT-VALUE})")
    String preset = "tiny";
    @Option(names = "--seed", paramLabel = "S", description = "initialisation seed (default ${DEFAULT-VALUE})")
    long seed = 0;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "the model folder to write (created if missing)")
    Path out;
    @Option(names = "--dtype", paramLabel = "T", defaultValue = "f32", description = "weight storage type: f32 (default), bf16 or f16")
    DType dtype;
    @Option(names = "--shard-mb", paramLabel = "N", description = "split the weights into shards of at most N MiB with"
            + " model.safetensors.index.json")
    Long shardMb;

    @Override
    public Integer call() throws Exception {
        if (like != null) {
            RandomPublishedFolder.write(out, like, root -> {
            }, dtype, seed, shardMb != null ? shardMb << 20 : 4L << 30);
            FolderInspection in = FolderInspection.of(out);
            System.out.printf("wrote %s: random weights in the layout of %s, %,d parameters, %,d bytes (seed %d)%n", out, like,
                    in.parameters(), in.bytes(), seed);
            return 0;
        }
        if (arch == null) {
            throw new UsageException("--arch is required (or --like SRC for a published layout)");
        }
        if (preset.equals("nvlm-d-72b")) {
            throw new UsageException("nvlm-d-72b has 79B parameters: it is a config for loading real checkpoints, not for init here");
        }
        NvlmConfig config = Presets.get(preset, arch);
        Nvlm model = Nvlm.create(config, new SplittableRandom(seed));
        Checkpoint.save(model, out, dtype, shardMb != null ? shardMb << 20 : Long.MAX_VALUE);
        if (preset.equals("tiny") || preset.equals("small")) {
            ProjectTokenizer.instance().writeJson(out.resolve(ModelFolder.TOKENIZER));
        }
        System.out.printf("wrote %s: NVLM-%s %s, %,d parameters (seed %d)%n", out, arch, preset, model.parameterCount(), seed);
        return 0;
    }
}
