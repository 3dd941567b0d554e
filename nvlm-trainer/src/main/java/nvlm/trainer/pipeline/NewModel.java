package nvlm.trainer.pipeline;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import nvlm.model.Nvlm;
import nvlm.model.config.NvlmConfig;
import nvlm.tensor.Device;
import nvlm.trainer.backbone.Backbones;

/**
 * The weights a new run starts from ({@code ./nvlm train --arch}): a model of a config with fresh
 * weights, its vision encoder and LLM usually loaded from the backbones (stage 0), and the world
 * seed those backbones were pretrained on, which decides the world's splits.
 *
 * @param model     on the device asked for
 * @param worldSeed the backbones' {@code world_seed}, else 1 (the seed of the shipped backbones)
 */
public record NewModel(Nvlm model, long worldSeed) {
    /** Every weight fresh from {@code seed} (tests, ablations). */
    public static NewModel random(NvlmConfig config, long seed, Device device) {
        Nvlm model = Nvlm.create(config, new SplittableRandom(seed));
        model.to(device);
        return new NewModel(model, 1);
    }

    /**
     * Fresh weights from {@code seed}, then the vision encoder from {@code vision} and the LLM from
     * {@code llm}, each falling back to {@code backbones} (a folder of ./nvlm pretrain-backbones,
     * whose manifest gives the world seed; may be null when both parts are given).
     */
    public static NewModel fromBackbones(NvlmConfig config, long seed, Path backbones, Path vision, Path llm, Device device)
            throws IOException {
        Nvlm model = Nvlm.create(config, new SplittableRandom(seed));
        long worldSeed = 1;
        if (backbones != null && Backbones.manifest(backbones).get("world_seed") instanceof Long w) {
            worldSeed = w;
        }
        Backbones.load(model, vision != null ? vision : backbones, llm != null ? llm : backbones);
        model.to(device);
        return new NewModel(model, worldSeed);
    }
}
