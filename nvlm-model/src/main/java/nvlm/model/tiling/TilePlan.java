package nvlm.model.tiling;

/**
 * The tiling decision for one image (docs/model.md §1): the image is resized to
 * {@code (tileSize*cols, tileSize*rows)} and cut into {@code cols*rows} tiles in row-major order;
 * a thumbnail (the whole image at {@code tileSize x tileSize}) follows them when {@link #thumbnail()}.
 *
 * <p>Tile indices run over the prompt order: {@code 0 .. cols*rows-1} are the regular tiles
 * (tile k is column {@code k % cols}, row {@code k / cols}), and {@code cols*rows} is the
 * thumbnail if there is one.
 */
public record TilePlan(int imageWidth, int imageHeight, int tileSize, int cols, int rows, boolean thumbnail) {

    public TilePlan {
        if (imageWidth <= 0 || imageHeight <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + imageWidth + "x" + imageHeight);
        }
        if (tileSize <= 0 || cols <= 0 || rows <= 0) {
            throw new IllegalArgumentException("tile size and grid must be positive, got tile " + tileSize
                    + ", grid " + cols + "x" + rows);
        }
        if (thumbnail && cols * rows == 1) {
            throw new IllegalArgumentException("a 1x1 grid has no thumbnail (docs/model.md §1 step 4)");
        }
    }

    /** Regular tiles: {@code cols * rows}. */
    public int gridTiles() {
        return cols * rows;
    }

    /** Every tile of the image in the prompt, thumbnail included. */
    public int tileCount() {
        return cols * rows + (thumbnail ? 1 : 0);
    }

    /** Whether tile {@code k} (prompt order) is the thumbnail. */
    public boolean isThumbnail(int k) {
        checkTile(k);
        return thumbnail && k == cols * rows;
    }

    /**
     * Whether tile {@code k} is a global view of the whole image: the thumbnail, or the only tile
     * of a 1x1 grid (which docs/model.md §6 tags like the thumbnail).
     */
    public boolean isGlobalView(int k) {
        checkTile(k);
        return k == cols * rows || cols * rows == 1;
    }

    /** Grid column of regular tile {@code k}. */
    public int column(int k) {
        checkRegular(k);
        return k % cols;
    }

    /** Grid row of regular tile {@code k}. */
    public int row(int k) {
        checkRegular(k);
        return k / cols;
    }

    /**
     * The part of the original image that tile {@code k} shows, normalized to [0,1]
     * ({@code x0, y0, x1, y1}); the whole image for the thumbnail. The resize stretches the whole
     * image onto the grid, so regular tile (c, r) covers {@code [c/cols, (c+1)/cols] x [r/rows, (r+1)/rows]}.
     */
    public double[] normalizedBox(int k) {
        checkTile(k);
        if (isThumbnail(k)) {
            return new double[] {0, 0, 1, 1};
        }
        int c = column(k);
        int r = row(k);
        return new double[] {(double) c / cols, (double) r / rows, (double) (c + 1) / cols, (double) (r + 1) / rows};
    }

    /** Crop box {@code x0, y0, x1, y1} of regular tile {@code k} in the resized image, in pixels. */
    public int[] pixelBox(int k) {
        int c = column(k);
        int r = row(k);
        return new int[] {c * tileSize, r * tileSize, (c + 1) * tileSize, (r + 1) * tileSize};
    }

    private void checkTile(int k) {
        if (k < 0 || k >= tileCount()) {
            throw new IndexOutOfBoundsException("tile " + k + " of a plan with " + tileCount() + " tiles");
        }
    }

    private void checkRegular(int k) {
        if (k < 0 || k >= cols * rows) {
            throw new IndexOutOfBoundsException("regular tile " + k + " of a " + cols + "x" + rows + " grid");
        }
    }
}
