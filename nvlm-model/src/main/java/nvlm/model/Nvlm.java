package nvlm.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.random.RandomGenerator;
import nvlm.kernels.DType;
import nvlm.model.config.Architecture;
import nvlm.model.config.ContextLength;
import nvlm.model.config.ModelSize;
import nvlm.model.config.NvlmConfig;
import nvlm.model.llm.LanguageModel;
import nvlm.model.projector.Projector;
import nvlm.model.vision.InternViT;
import nvlm.model.xattn.CrossAttentionContext;
import nvlm.tensor.F;
import nvlm.tensor.GradMode;
import nvlm.tensor.MemoryScope;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Init;
import nvlm.tensor.nn.Module;
import nvlm.tensor.nn.Parameter;

/**
 * The parts every NVLM architecture shares (docs/model.md §7): the InternViT {@code vision_model}, the
 * projector {@code mlp1}, and the {@code language_model}. Image features are InternViT, then
 * pixel shuffle, then the projector; the subclasses decide where they go:
 * {@link NvlmD} into the decoder sequence, {@link NvlmX} into cross-attention memory,
 * {@link NvlmH} the thumbnail into the sequence and the tiles into memory. A text-only config
 * ({@link NvlmConfig#textOnly}, a bare Qwen2 decoder) builds an {@link NvlmD} with no
 * {@code vision_model} and no {@code mlp1}: it refuses images.
 */
public abstract sealed class Nvlm extends Module permits NvlmD, NvlmX, NvlmH {
    protected final NvlmConfig config;
    protected final InternViT visionModel;
    protected final Projector mlp1;
    protected final LanguageModel languageModel;

    protected Nvlm(NvlmConfig config, RandomGenerator rng) {
        this.config = config;
        this.visionModel = config.hasVision() ? child("vision_model", new InternViT(config.vision(), rng)) : null;
        this.mlp1 = config.hasVision() ? child("mlp1", new Projector(config, rng)) : null;
        int every = config.architecture() == Architecture.D ? 0 : config.xattnEvery();
        this.languageModel = child("language_model", new LanguageModel(config.llm(), every, rng));
    }

    /** The model of {@code config.architecture()}, initialised from {@code rng}. */
    public static Nvlm create(NvlmConfig config, RandomGenerator rng) {
        if (!Init.isShapesOnly()) {
            // A skeleton allocates nothing (its weights are mapped or inspected later): only a real model must fit.
            ModelSize.requireFits(config);
        }
        return switch (config.architecture()) {
            case D -> new NvlmD(config, rng);
            case X -> new NvlmX(config, rng);
            case H -> new NvlmH(config, rng);
        };
    }

    public NvlmConfig config() {
        return config;
    }

    /** The vision encoder, {@code vision_model} (null for a text-only model). */
    public InternViT visionModel() {
        return visionModel;
    }

    /** The projector, {@code mlp1} (InternVL's name for it; null for a text-only model). */
    public Projector mlp1() {
        return mlp1;
    }

    /** The decoder, {@code language_model}. */
    public LanguageModel languageModel() {
        return languageModel;
    }

    /** Logits [B, T, V] and the mean loss over labelled tokens (docs/model.md §8). */
    public record Output(Tensor logits, Tensor loss) {
    }

    /**
     * Projected image features [N, T_img, d] of pixel_values [N, 3, S, S]. The encoder runs
     * without a graph when none of its parameters is trainable (both training stages freeze it).
     */
    public Tensor imageFeatures(Tensor pixels) {
        if (!config.hasVision()) {
            throw new IllegalArgumentException("this model (" + config.preset() + ") is a text-only decoder: it takes no images");
        }
        if (!GradMode.isEnabled() && pixels.size(0) > 1) {
            // Inference: one tile at a time, so only one tile's ViT activations are ever alive.
            List<Tensor> tiles = new ArrayList<>();
            for (long n = 0; n < pixels.size(0); n++) {
                try (var tile = MemoryScope.open()) {
                    tiles.add(MemoryScope.escape(imageFeatures(pixels.narrow(0, n, 1)).contiguous()));
                }
            }
            return Tensor.cat(0, tiles);
        }
        Tensor patches;
        boolean visionTrains = visionModel.parameters().stream().anyMatch(Parameter::trainable);
        if (visionTrains) {
            patches = visionModel.forward(pixels);
        } else {
            try (var noGrad = GradMode.disabled()) {
                patches = visionModel.forward(pixels);
            }
        }
        return mlp1.forward(PixelShuffle.apply(patches, config.vision().gridSize()));
    }

    /** Input embeddings [B, T, d] with image information placed, and the cross-attention context (or null). */
    public record Inputs(Tensor embeddings, CrossAttentionContext context) {
    }

    /** Image features computed and placed for the decoder: what {@link #forward} and generation start from. */
    public Inputs prepare(Batch batch) {
        return prepare(batch, ids -> languageModel.embed(ids.to(languageModel.embeddingTable().device())));
    }

    private Inputs prepare(Batch batch, UnaryOperator<Tensor> embed) {
        ContextLength.require(batch.length(), config, "a sequence of the batch");
        MediaIndex media = MediaIndex.of(batch);
        Tensor features = batch.tiles() > 0 ? imageFeatures(batch.pixelValues()) : null;
        return inputs(batch, features, media, embed);
    }

    /**
     * Architecture-specific placement of image features (docs/model.md §7, §10); {@code embed}
     * turns I64 token ids into decoder embeddings.
     */
    protected abstract Inputs inputs(Batch batch, Tensor features, MediaIndex media, UnaryOperator<Tensor> embed);

    /** Logits of a batch; the loss is computed when any label is set (else NaN, as in PyTorch). */
    public Output forward(Batch batch) {
        Inputs in = prepare(batch);
        Tensor hidden = languageModel.hidden(in.embeddings(), in.context(), null);
        Tensor logits = languageModel.logits(hidden);
        return new Output(logits, loss(logits, batch.labels()));
    }

    /**
     * The decoder as a training forward pass uses it, when something other than
     * {@code language_model} computes it: a tensor-parallel shard (nvlm.trainer.parallel) whose
     * embeddings, hidden states and loss are the whole decoder's, each rank holding a block of
     * its weights.
     */
    public interface Decoder {
        /** Embeddings [.., d] of I64 token ids [..]. */
        Tensor embed(Tensor ids);

        /** Final hidden states [B, T, d]; {@code context} feeds the cross-attention blocks (null: none runs). */
        Tensor hidden(Tensor embeddings, CrossAttentionContext context);

        /** The causal LM loss of {@link #loss(Tensor, Tensor)} from final hidden states. */
        Tensor meanLoss(Tensor hidden, Tensor labels);
    }

    /**
     * The mean loss of {@code batch} (docs/model.md §8) with {@code decoder} computing the
     * decoder; the vision encoder and projector run as in {@link #forward}.
     */
    public Tensor loss(Batch batch, Decoder decoder) {
        Inputs in = prepare(batch, decoder::embed);
        return decoder.meanLoss(decoder.hidden(in.embeddings(), in.context()), batch.labels());
    }

    /** Causal LM loss (docs/model.md §8): logits at t predict labels at t+1; labels equal to {@link F#IGNORE_INDEX} ignored; mean over labelled tokens. */
    public static Tensor loss(Tensor logits, Tensor labels) {
        long b = logits.size(0);
        long t = logits.size(1);
        long v = logits.size(2);
        if (t < 2) {
            return Tensor.full(logits.device(), DType.F32, Double.NaN);
        }
        Tensor predictions = logits.narrow(1, 0, t - 1).reshape(b * (t - 1), v);
        Tensor targets = labels.narrow(1, 1, t - 1).reshape(b * (t - 1));
        return F.crossEntropy(predictions, targets.to(logits.device()), F.IGNORE_INDEX);
    }

    // ------------------------------------------------------------------ shared helpers for subclasses

    /** Flat indices (row * T + t) of every image-context token, in order. */
    protected long[] imageContextPositions(Batch batch) {
        long[] ids = batch.inputIds().toLongArray();
        List<Long> positions = new ArrayList<>();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == config.tokens().imageContext()) {
                positions.add((long) i);
            }
        }
        return positions.stream().mapToLong(Long::longValue).toArray();
    }

    /** Embeddings with {@code rows} of {@code source} written at flat {@code positions}. */
    protected Tensor placeAt(Tensor embeddings, long[] positions, Tensor source) {
        long b = embeddings.size(0);
        long t = embeddings.size(1);
        long d = embeddings.size(2);
        Tensor index = Tensor.of(positions).to(embeddings.device());
        return F.indexCopyRows(embeddings.reshape(b * t, d), index, source).reshape(b, t, d);
    }

    /**
     * The cross-attention context of a batch: memory rows gathered from {@code source} (a
     * [rows, d] table whose last row is zeros, for padding) by per-image entry lists, and the
     * masks of docs/model.md §10. {@code entriesOfImage.get(m)} lists, per tile block, source rows.
     * Without {@code blockStarts} every position at or after an image sees all of its entries; with
     * it, a position in tile k's tag span (media_tile k) sees only entries
     * {@code blockStarts.get(m)[k]} to {@code blockStarts.get(m)[k + 1]}, where a tile without a
     * block of its own (k past the last; NVLM-H's thumbnail, which is in the sequence) sees them all.
     */
    protected CrossAttentionContext context(Batch batch, MediaIndex media, Tensor source,
                                            List<long[]> entriesOfImage, List<long[]> blockStarts) {
        int rows = (int) batch.rows();
        int length = (int) batch.length();
        long zeroRow = source.size(0) - 1;
        long[] imageOffset = new long[media.images()];
        int memoryLength = 0;
        for (int b = 0; b < rows; b++) {
            int offset = 0;
            for (int m : media.imagesOfRow().get(b)) {
                imageOffset[m] = offset;
                offset += entriesOfImage.get(m).length;
            }
            memoryLength = Math.max(memoryLength, offset);
        }
        if (memoryLength == 0) {
            return null;
        }
        long[] gather = new long[rows * memoryLength];
        java.util.Arrays.fill(gather, zeroRow);
        for (int b = 0; b < rows; b++) {
            for (int m : media.imagesOfRow().get(b)) {
                long[] entries = entriesOfImage.get(m);
                System.arraycopy(entries, 0, gather, (int) (b * memoryLength + imageOffset[m]), entries.length);
            }
        }
        long d = source.size(1);
        Tensor memory = source.indexSelect(0, Tensor.of(gather).to(source.device())).reshape(rows, memoryLength, d);

        long[] mediaImage = batch.mediaImage().toLongArray();
        long[] mediaTile = batch.mediaTile().toLongArray();
        boolean[] mask = new boolean[rows * length * memoryLength];
        float[] rowMask = new float[rows * length];
        for (int b = 0; b < rows; b++) {
            for (int t = 0; t < length; t++) {
                int p = b * length + t;
                long m = mediaImage[p];
                if (m < 0) {
                    continue;
                }
                if (m >= media.images() || media.row()[(int) m] != b) {
                    throw new IllegalArgumentException("batch: media_image[" + b + ", " + t + "] = " + m
                            + " is not an image of row " + b);
                }
                long from = imageOffset[(int) m];
                long to = from + entriesOfImage.get((int) m).length;
                long tile = blockStarts != null ? mediaTile[p] : -1;
                if (tile >= 0) {
                    if (tile >= media.tiles()[(int) m]) {
                        throw new IllegalArgumentException("batch: media_tile[" + b + ", " + t + "] = " + tile
                                + " but image " + m + " has " + media.tiles()[(int) m] + " tiles");
                    }
                    long[] starts = blockStarts.get((int) m);
                    if (tile + 1 < starts.length) {
                        to = from + starts[(int) tile + 1];
                        from += starts[(int) tile];
                    }
                }
                for (long j = from; j < to; j++) {
                    mask[(int) ((long) p * memoryLength + j)] = true;
                }
                rowMask[p] = to > from ? 1f : 0f;
            }
        }
        Tensor maskTensor = Tensor.of(mask, rows, length, memoryLength).to(source.device());
        Tensor rowMaskTensor = Tensor.of(rowMask, rows, length, 1).to(source.device());
        return CrossAttentionContext.of(memory, maskTensor, rowMaskTensor);
    }

    /**
     * Tagged memory (docs/model.md §7, a project decision beyond the paper): with
     * {@link NvlmConfig#taggedMemory} each of a tile's {@code tokensPerTile} rows of {@code tileRows}
     * (a [tiles * tokensPerTile, d] table in {@code pixel_values} order) plus the sum of that tile's tag
     * token embeddings, so a memory row says which tile it came from; without it (or without tags) the
     * rows as they are.
     */
    protected Tensor withTileIdentity(Batch batch, Tensor tileRows, UnaryOperator<Tensor> embed, int tokensPerTile) {
        if (!config.taggedMemory()) {
            return tileRows;
        }
        long[] tagIds = batch.tileTagIds().toLongArray();
        int tiles = (int) batch.tiles();
        int width = (int) batch.tileTagIds().size(1);
        long d = tileRows.size(1);
        // Rows of the table the sums read: 0 is a zero row (for the -1 padding), 1 + j the j-th tag id used.
        long[] used = new long[tagIds.length];
        long[] pick = new long[tagIds.length];
        int count = 0;
        for (int i = 0; i < tagIds.length; i++) {
            if (tagIds[i] >= 0) {
                used[count++] = tagIds[i];
                pick[i] = count;
            }
        }
        if (count == 0) {
            return tileRows;
        }
        Tensor table = Tensor.cat(0, Tensor.zeros(tileRows.device(), DType.F32, 1, d),
                embed.apply(Tensor.of(java.util.Arrays.copyOf(used, count))));
        Tensor tagSums = table.indexSelect(0, Tensor.of(pick).to(table.device())).reshape(tiles, width, d).sum(1, false);
        long[] tileOfRow = new long[tiles * tokensPerTile];
        for (int i = 0; i < tileOfRow.length; i++) {
            tileOfRow[i] = i / tokensPerTile;
        }
        return tileRows.add(tagSums.indexSelect(0, Tensor.of(tileOfRow).to(tagSums.device())));
    }

    /** {@code rows} appended with one zero row (the padding entry of memories). */
    protected static Tensor withZeroRow(Tensor rows) {
        return Tensor.cat(0, rows, Tensor.zeros(rows.device(), DType.F32, 1, rows.size(1)));
    }
}
