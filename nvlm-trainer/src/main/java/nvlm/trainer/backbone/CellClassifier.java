package nvlm.trainer.backbone;

import java.util.random.RandomGenerator;
import nvlm.model.PixelShuffle;
import nvlm.model.config.VisionConfig;
import nvlm.model.vision.InternViT;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Linear;
import nvlm.tensor.nn.Module;
import nvlm.tensor.nn.Parameter;
import nvlm.trainer.data.CellSymbols;

/**
 * Stage-0 vision model: the InternViT ({@code vision_model}, docs/model.md §2) with a throwaway linear
 * {@code head} on its pixel-shuffled tokens (docs/model.md §3) that tells each token's cell symbol
 * ({@link CellSymbols}). Pixel shuffle turns 2x2 patches into one token, exactly one layout cell
 * of the world, so the head reads the very tokens the projector will read in stages 1 and 2.
 * Only {@code vision_model} is kept.
 */
public final class CellClassifier extends Module {
    private final VisionConfig config;
    private final InternViT visionModel;
    private final Linear head;

    public CellClassifier(VisionConfig config, RandomGenerator rng) {
        this.config = config;
        this.visionModel = child("vision_model", new InternViT(config, rng));
        this.head = child("head", new Linear(4L * config.hiddenSize(), CellSymbols.COUNT, true, rng));
    }

    public InternViT visionModel() {
        return visionModel;
    }

    /** Symbol logits [N * tokensPerTile, classes] of tiles [N, 3, S, S], tokens in pixel-shuffle order. */
    public Tensor logits(Tensor pixels) {
        Tensor shuffled = PixelShuffle.apply(visionModel.forward(pixels), config.gridSize());
        Tensor logits = head.forward(shuffled);
        return logits.reshape(logits.size(0) * logits.size(1), logits.size(2));
    }

    /** Mean cross-entropy over the cells whose target is not {@link F#IGNORE_INDEX}. */
    public Tensor loss(Tensor pixels, Tensor targets) {
        return F.crossEntropy(logits(pixels), targets, F.IGNORE_INDEX);
    }

    /** The head's parameters (for reports; they are discarded with the head). */
    public Parameter headWeight() {
        return head.weight();
    }
}
