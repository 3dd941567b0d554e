package nvlm.model;

import java.util.function.UnaryOperator;
import java.util.random.RandomGenerator;
import nvlm.model.config.NvlmConfig;
import nvlm.tensor.Tensor;

/**
 * NVLM-D, decoder-only (docs/model.md §7): the image-context positions of input_ids receive, in order,
 * every tile's projected tokens in pixel_values order; the rest is the plain decoder.
 */
public final class NvlmD extends Nvlm {
    NvlmD(NvlmConfig config, RandomGenerator rng) {
        super(config, rng);
    }

    @Override
    protected Inputs inputs(Batch batch, Tensor features, MediaIndex media, UnaryOperator<Tensor> embed) {
        Tensor embeddings = embed.apply(batch.inputIds());
        if (!config.hasVision()) {
            return new Inputs(embeddings, null); // a text-only decoder: prepare() refused any tiles
        }
        long[] positions = imageContextPositions(batch);
        long expected = batch.tiles() * config.tokensPerTile();
        if (positions.length != expected) {
            throw new IllegalArgumentException("batch: input_ids hold " + positions.length + " image-context tokens (id "
                    + config.tokens().imageContext() + ") but pixel_values has " + batch.tiles() + " tiles x "
                    + config.tokensPerTile() + " tokens = " + expected + " (docs/model.md §10, NVLM-D)");
        }
        if (positions.length == 0) {
            return new Inputs(embeddings, null);
        }
        Tensor rows = features.reshape(expected, config.llm().hiddenSize());
        return new Inputs(placeAt(embeddings, positions, rows), null);
    }
}
