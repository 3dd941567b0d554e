package nvlm.trainer.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import nvlm.kernels.DType;
import nvlm.model.Architecture;
import nvlm.model.ModelFolder;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.model.tokenizer.ProjectTokenizer;

/** {@code ./nvlm init}: a freshly initialised model folder for a preset. */
public final class InitCommand implements Command {
    private static final String USAGE = """
            usage: ./nvlm init --arch d|x|h --preset P --seed S --out DIR [--dtype f32|bf16|f16] [--shard-mb N]

            Writes DIR/config.json (docs/model.md §10), DIR/model.safetensors (docs/model.md §9 names) and,
            for the project's presets, DIR/tokenizer.json. Same seed, same weights.

              --arch A       d (decoder-only), x (cross-attention) or h (hybrid)
              --preset P     tiny | small | nvlm-d-72b | internvl2-1b (default tiny)
              --seed S       initialisation seed (default 0)
              --out DIR      the model folder to write (created if missing)
              --dtype T      weight storage type: f32 (default), bf16 or f16
              --shard-mb N   split the weights into shards of at most N MiB with model.safetensors.index.json
            """;

    @Override
    public String name() {
        return "init";
    }

    @Override
    public String summary() {
        return "write a freshly initialised model folder (config.json + safetensors) for a preset";
    }

    @Override
    public int run(List<String> words) throws Exception {
        Args args = Args.parse(name(), words, Set.of("arch", "preset", "seed", "out", "dtype", "shard-mb"), Set.of("help"));
        if (args.has("help")) {
            System.out.print(USAGE);
            return 0;
        }
        Architecture arch = Architecture.parse(args.require("arch"));
        String preset = args.get("preset", "tiny");
        if (preset.equals("nvlm-d-72b")) {
            throw new UsageException("nvlm-d-72b has 79B parameters: it is a config for loading real checkpoints, not for init here");
        }
        NvlmConfig config = Presets.get(preset, arch);
        long seed = args.getLong("seed", 0);
        Path out = Path.of(args.require("out"));
        DType dtype = switch (args.get("dtype", "f32")) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            case "f16" -> DType.F16;
            default -> throw new UsageException("--dtype must be f32, bf16 or f16");
        };
        long shardBytes = args.has("shard-mb") ? args.getLong("shard-mb", 0) << 20 : Long.MAX_VALUE;
        Nvlm model = Nvlm.create(config, new SplittableRandom(seed));
        Checkpoint.save(model, out, dtype, shardBytes);
        if (preset.equals("tiny") || preset.equals("small")) {
            ProjectTokenizer.instance().writeJson(out.resolve(ModelFolder.TOKENIZER));
        }
        System.out.printf("wrote %s: NVLM-%s %s, %,d parameters (seed %d)%n", out, arch, preset, model.parameterCount(), seed);
        return 0;
    }
}
