package nvlm.model.prompt;

import java.util.List;
import nvlm.model.tiling.TagMode;
import nvlm.model.tiling.TilePlan;
import nvlm.model.tiling.TiledImage;

/**
 * An image ready for a prompt: its tiling, each tile's tag (prompt order, thumbnail last; empty
 * strings in tag mode none) and its pixels {@code [tiles, 3, S, S]}.
 */
public record PromptImage(TilePlan plan, List<String> tags, float[] pixels) {
    public PromptImage {
        tags = List.copyOf(tags);
        if (tags.size() != plan.tileCount()) {
            throw new IllegalArgumentException("image has " + plan.tileCount() + " tiles but " + tags.size() + " tags");
        }
        long expected = (long) plan.tileCount() * 3 * plan.tileSize() * plan.tileSize();
        if (pixels.length != expected) {
            throw new IllegalArgumentException("image has " + plan.tileCount() + " tiles of " + plan.tileSize() + "px, needs "
                    + expected + " pixel floats, got " + pixels.length);
        }
    }

    public static PromptImage of(TiledImage image, TagMode mode) {
        return new PromptImage(image.plan(), mode.tags(image.plan()), image.pixels());
    }

    public int tiles() {
        return plan.tileCount();
    }

    /**
     * The tile shown in the decoder sequence by NVLM-H: the thumbnail, or the only tile of a 1x1
     * grid (docs/model.md §7, §10: "the single tile when image_tiles = 1").
     */
    public int globalTile() {
        return plan.tileCount() - 1;
    }
}
