package nvlm.trainer.pipeline;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import nvlm.model.Nvlm;
import nvlm.model.config.NvlmConfig;
import nvlm.tensor.Device;
import nvlm.trainer.backbone.Backbones;

/**
 * The weights a new run starts from ({@code ./nvlm train --arch}): a model with fresh weights, its
 * vision encoder and LLM usually from the backbones (stage 0), on the device asked for; and the
 * world seed those backbones were pretrained on ({@code world_seed}, else 1), which decides the splits.
 */
public record NewModel(Nvlm model, long worldSeed) {
    /** Every weight fresh from {@code seed} (tests, ablations). */
    public static NewModel random(NvlmConfig config, long seed, Device device) {
        Nvlm model = Nvlm.create(config, new SplittableRandom(seed));
        model.to(device);
        return new NewModel(model, 1);
    }

    /**
     * Fresh weights from {@code seed}, the vision encoder from {@code vision} and the LLM from {@code llm}, each
     * else from {@code backbones} (./nvlm pretrain-backbones; its manifest gives the world seed; null if both given).
     */
    public static NewModel fromBackbones(NvlmConfig config, long seed, Path backbones, Path vision, Path llm, Device device)
            throws IOException {
        Nvlm model = Nvlm.create(config, new SplittableRandom(seed));
        long worldSeed = backbones != null ? Backbones.worldSeed(backbones, 1) : 1;
        Backbones.load(model, vision != null ? vision : backbones, llm != null ? llm : backbones);
        model.to(device);
        return new NewModel(model, worldSeed);
    }
}
