package nvlm.trainer.pipeline;

import nvlm.model.config.NvlmConfig;
import nvlm.model.tokenizer.ProjectTokenizer;
import nvlm.trainer.data.Blend;
import nvlm.trainer.data.DataLoader;
import nvlm.trainer.data.ExampleSource;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.train.LoaderBatches;
import nvlm.trainer.train.StageConfig;

/**
 * The world's blend of each stage (docs/model.md §11) and the batches of a stage: stage 1 draws
 * {@link Blend#stage1()} (captioning and the image tasks), stage 2 {@link Blend#stage2} with the
 * stage's text-only ratio mixed in. Batches are bucketed by length and ordered by the stage's seed.
 */
public final class WorldStage {
    /** Batches per length-bucketing pool. */
    public static final int POOL_BATCHES = 16;

    private WorldStage() {
    }

    /** The blend of a stage. */
    public static Blend blend(StageConfig config) {
        return switch (config.stage()) {
            case TEXT_PRETRAINING -> Blend.stage0Text();
            case PRETRAINING -> Blend.stage1();
            case SFT -> Blend.stage2(config.textOnlyRatio());
        };
    }

    /** The encoder of a model config (no system prompt: shorter sequences; the world's tasks need no instructions). */
    public static SampleEncoder encoder(NvlmConfig model, SampleEncoder.Options options) {
        return SampleEncoder.forConfig(model, ProjectTokenizer.instance(), options);
    }

    /** The batches of a stage over {@code source}. */
    public static LoaderBatches batches(ExampleSource source, SampleEncoder encoder, StageConfig config) {
        DataLoader loader = new DataLoader(source, encoder, config.microBatchSize(), POOL_BATCHES, config.seed());
        return new LoaderBatches(loader, config.gradAccumulation());
    }
}
