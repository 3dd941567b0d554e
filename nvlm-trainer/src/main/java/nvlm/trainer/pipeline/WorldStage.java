package nvlm.trainer.pipeline;

import nvlm.model.config.NvlmConfig;
import nvlm.model.tiling.TagMode;
import nvlm.model.tokenizer.ProjectTokenizer;
import nvlm.trainer.data.Blend;
import nvlm.trainer.data.DataLoader;
import nvlm.trainer.data.ExampleSource;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.WorldDataset;
import nvlm.trainer.train.LoaderBatches;
import nvlm.trainer.train.StageConfig;

/**
 * The data of a training stage on the synthetic world (spec 11): stage 1 draws
 * {@link Blend#stage1()} (captioning and the image tasks), stage 2 {@link Blend#stage2} with the
 * stage's text-only ratio mixed in. The dataset holds one fresh example per row the stage
 * trains on ({@code steps x micro-batch x accumulation}), bucketed by length, in an order seeded
 * by the stage's seed.
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

    /** The training examples of a stage. */
    public static ExampleSource dataset(SyntheticWorld world, StageConfig config, TagMode tagMode) {
        int rows = Math.multiplyExact(config.totalSteps(), config.globalBatchSize());
        return new WorldDataset(world, Split.TRAIN, blend(config), rows, tagMode);
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

    /** Stage 1 or 2 on the world, start to finish. */
    public static LoaderBatches batches(SyntheticWorld world, NvlmConfig model, StageConfig config, SampleEncoder.Options options) {
        SampleEncoder encoder = encoder(model, options);
        return batches(dataset(world, config, encoder.tagMode()), encoder, config);
    }
}
