package nvlm.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.random.RandomGenerator;
import nvlm.model.config.NvlmConfig;
import nvlm.tensor.Tensor;

/**
 * NVLM-H, hybrid (docs/model.md §7): each image's thumbnail (the single tile when there is only one)
 * goes into the decoder sequence at its image-context positions, as in NVLM-D; the regular
 * tiles go into cross-attention memory, each preceded by the decoder embeddings of its tag:
 * {@code M = [emb(tag_1), tile_1, emb(tag_2), tile_2, ...]}. Positions at or after an image's
 * {@code <Image>} see all of that image's memory; a single-tile image has an empty memory. Memory is a
 * set to the attention (no positions), so a tile's rows do not say which tag they followed; with
 * tagged memory (a project decision, {@link NvlmConfig#taggedMemory}) every tile row also carries
 * its tag's embedding sum. With tags in the sequence (a project decision,
 * {@link NvlmConfig#tagsInSequence}) every regular tile's tag is also in the decoder sequence, and
 * the positions of tile j's tag see only tile j's block of the memory (its tag rows and its tokens),
 * as in NVLM-X; every other position sees the whole memory.
 */
public final class NvlmH extends Nvlm {
    NvlmH(NvlmConfig config, RandomGenerator rng) {
        super(config, rng);
    }

    @Override
    protected Inputs inputs(Batch batch, Tensor features, MediaIndex media, UnaryOperator<Tensor> embed) {
        Tensor embeddings = embed.apply(batch.inputIds());
        long[] positions = imageContextPositions(batch);
        int perTile = config.tokensPerTile();
        long expected = (long) media.images() * perTile;
        if (positions.length != expected) {
            throw new IllegalArgumentException("batch: input_ids hold " + positions.length + " image-context tokens (id "
                    + config.tokens().imageContext() + ") but the " + media.images() + " images need " + perTile
                    + " each for their thumbnails = " + expected + " (docs/model.md §10, NVLM-H)");
        }
        if (features == null) {
            return new Inputs(embeddings, null);
        }
        long d = config.llm().hiddenSize();
        Tensor flat = features.reshape(batch.tiles() * perTile, d);

        // Thumbnail (last tile of each image) rows, in image order, into the sequence.
        long[] thumbRows = new long[(int) expected];
        for (int m = 0; m < media.images(); m++) {
            long first = (media.tileStart()[m] + media.tiles()[m] - 1) * perTile;
            for (int j = 0; j < perTile; j++) {
                thumbRows[m * perTile + j] = first + j;
            }
        }
        Tensor placed = placeAt(embeddings, positions, flat.indexSelect(0, Tensor.of(thumbRows).to(flat.device())));

        // Memory source: tile rows, then the embeddings of every tag token used, then a zero row.
        long[] tagIds = batch.tileTagIds().toLongArray();
        int tagWidth = (int) batch.tileTagIds().size(1);
        List<Long> usedTags = new ArrayList<>();
        List<long[]> entries = new ArrayList<>();
        List<long[]> blockStarts = new ArrayList<>();
        long tagBase = flat.size(0);
        for (int m = 0; m < media.images(); m++) {
            List<Long> e = new ArrayList<>();
            long[] starts = new long[(int) media.tiles()[m]];
            for (long k = 0; k + 1 < media.tiles()[m]; k++) {
                starts[(int) k] = e.size();
                long tile = media.tileStart()[m] + k;
                for (int l = 0; l < tagWidth; l++) {
                    long id = tagIds[(int) (tile * tagWidth + l)];
                    if (id >= 0) {
                        e.add(tagBase + usedTags.size());
                        usedTags.add(id);
                    }
                }
                for (int j = 0; j < perTile; j++) {
                    e.add(tile * perTile + j);
                }
            }
            starts[starts.length - 1] = e.size();
            entries.add(e.stream().mapToLong(Long::longValue).toArray());
            blockStarts.add(starts);
        }
        Tensor source = withTileIdentity(batch, flat, embed, perTile);
        if (!usedTags.isEmpty()) {
            long[] ids = usedTags.stream().mapToLong(Long::longValue).toArray();
            source = Tensor.cat(0, source, embed.apply(Tensor.of(ids)));
        }
        return new Inputs(placed, context(batch, media, withZeroRow(source), entries,
                config.tagsInSequence() ? blockStarts : null));
    }
}
