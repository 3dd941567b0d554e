package nvlm.model.tiling;

/**
 * One image after tiling: its plan and its pixels, {@code float[plan.tileCount() * 3 * S * S]}
 * laid out {@code [tiles, 3, S, S]} (thumbnail last), normalized as in docs/model.md §1 step 5.
 */
public record TiledImage(TilePlan plan, float[] pixels) {
    public TiledImage {
        long expected = (long) plan.tileCount() * 3 * plan.tileSize() * plan.tileSize();
        if (pixels.length != expected) {
            throw new IllegalArgumentException("pixels hold " + pixels.length + " floats, plan " + plan.cols() + "x"
                    + plan.rows() + (plan.thumbnail() ? "+thumbnail" : "") + " of " + plan.tileSize()
                    + "px tiles needs " + expected);
        }
    }
}
