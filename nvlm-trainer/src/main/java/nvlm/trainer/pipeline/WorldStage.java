package nvlm.trainer.pipeline;

import nvlm.model.config.NvlmConfig;
import nvlm.model.tokenizer.ProjectTokenizer;
import nvlm.trainer.data.DataLoader;
import nvlm.trainer.data.ExampleSource;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.TaskBlend;
import nvlm.trainer.data.View;
import nvlm.trainer.data.WorldConfig;
import nvlm.trainer.eval.Evaluation;
import nvlm.trainer.train.Evaluator;
import nvlm.trainer.train.LoaderBatches;
import nvlm.trainer.recipe.StageConfig;

/**
 * The world's blend of each stage (docs/model.md §11) and the batches of a stage: stage 1 draws
 * {@link TaskBlend#stage1()} (captioning and the image tasks), stage 2 {@link TaskBlend#stage2} with the
 * stage's text-only ratio mixed in. Batches are bucketed by length and ordered by the stage's seed.
 */
public final class WorldStage {
    /** Batches per length-bucketing pool. */
    public static final int POOL_BATCHES = 16;

    private WorldStage() {
    }

    /** The blend of a stage. */
    public static TaskBlend blend(StageConfig config) {
        return switch (config.stage()) {
            case TEXT_PRETRAINING -> TaskBlend.stage0Text();
            case PRETRAINING -> TaskBlend.stage1();
            case SFT -> TaskBlend.stage2(config.textOnlyRatio());
        };
    }

    /** The encoder of a model config (no system prompt: shorter sequences; the world's tasks need no instructions). */
    public static SampleEncoder encoder(NvlmConfig model, SampleEncoder.Options options) {
        return SampleEncoder.forConfig(model, ProjectTokenizer.instance(), options);
    }

    /**
     * Exact match on the first {@code samples} validation examples per family of the world that
     * {@code data} reads, for {@code model}'s tiling (the trainer's --eval-every).
     */
    public static Evaluator validation(DataSpec data, NvlmConfig model, int samples) {
        SyntheticWorld world = new SyntheticWorld(WorldConfig.forModel(model, data.worldSeed()));
        SampleEncoder encoder = data.encoder(model);
        var examples = Evaluation.worldExamples(world, Split.VALIDATION, samples, samples, View.IMAGE, encoder.tagMode());
        return m -> Evaluation.run(m, encoder, examples, Evaluation.MAX_NEW_TOKENS, null).accuracies();
    }

    /** The batches of a stage over {@code source}. */
    public static LoaderBatches batches(ExampleSource source, SampleEncoder encoder, StageConfig config) {
        DataLoader loader = new DataLoader(source, encoder, config.microBatchSize(), POOL_BATCHES, config.seed());
        return new LoaderBatches(loader, config.gradAccumulation());
    }
}
