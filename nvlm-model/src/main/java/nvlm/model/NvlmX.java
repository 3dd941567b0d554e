package nvlm.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.random.RandomGenerator;
import nvlm.model.config.NvlmConfig;
import nvlm.tensor.Tensor;

/**
 * NVLM-X, gated cross-attention (docs/model.md §7): the sequence holds text and tile tags but no image
 * tokens; the memory of image m is its tiles' projected tokens in order. A position inside the
 * tag span of tile j sees only tile j; any other position at or after an image's
 * {@code <Image>} sees all of that image's tiles. With tagged memory (a project decision,
 * {@link NvlmConfig#taggedMemory}) every memory row also carries its tile's tag embedding.
 */
public final class NvlmX extends Nvlm {
    NvlmX(NvlmConfig config, RandomGenerator rng) {
        super(config, rng);
    }

    @Override
    protected Inputs inputs(Batch batch, Tensor features, MediaIndex media, UnaryOperator<Tensor> embed) {
        Tensor embeddings = embed.apply(batch.inputIds());
        long[] positions = imageContextPositions(batch);
        if (positions.length != 0) {
            throw new IllegalArgumentException("batch: NVLM-X sequences hold no image-context tokens (docs/model.md §7), found "
                    + positions.length + " (id " + config.tokens().imageContext() + ")");
        }
        if (features == null) {
            return new Inputs(embeddings, null);
        }
        int perTile = config.tokensPerTile();
        long d = config.llm().hiddenSize();
        Tensor source = withZeroRow(withTileIdentity(batch, features.reshape(batch.tiles() * perTile, d), embed, perTile));
        List<long[]> entries = new ArrayList<>();
        List<long[]> blockStarts = new ArrayList<>();
        for (int m = 0; m < media.images(); m++) {
            long first = media.tileStart()[m] * perTile;
            long[] e = new long[(int) (media.tiles()[m] * perTile)];
            for (int j = 0; j < e.length; j++) {
                e[j] = first + j;
            }
            entries.add(e);
            long[] starts = new long[(int) media.tiles()[m] + 1];
            for (int k = 0; k < starts.length; k++) {
                starts[k] = (long) k * perTile;
            }
            blockStarts.add(starts);
        }
        return new Inputs(embeddings, context(batch, media, source, entries, blockStarts));
    }
}
