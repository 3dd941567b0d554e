package nvlm.trainer.data;

import nvlm.model.tiling.DynamicTiler;
import nvlm.model.tiling.RgbImage;
import nvlm.model.tiling.TilePlan;
import nvlm.model.tiling.TiledImage;
import nvlm.tensor.F;

/**
 * Stage-0 data for the vision encoder: a picture tiled as in training (docs/model.md §1), with dense
 * targets for a throwaway head (no pretrained InternViT can be downloaded here):
 * <ul>
 *   <li>{@code cellClasses} {@code [tiles, cells*cells]}: what each cell of each tile shows
 *       ({@link CellClass}: empty, a glyph, a coloured shape, a bar). A cell is one image token
 *       after pixel shuffle, and cells are row-major like the shuffled tokens (docs/model.md §3: token
 *       {@code t = y2*(G/2) + x2} covers cell {@code (x2, y2)}), so {@code cellClasses[k][t]} is
 *       the target of token t of tile k for a linear head on the shuffled tokens. The
 *       thumbnail's cells are {@link F#IGNORE_INDEX}: it is a different resolution.
 *   <li>{@code tileEdges} {@code [tiles]}: which image edges the tile touches, as bits (top 1,
 *       bottom 2, left 4, right 8); the thumbnail {@link F#IGNORE_INDEX}. The world frames each
 *       image so a tile can see this; it is what tells "top left" from "bottom right".
 *   <li>{@code caption}: the scene's caption, for a captioning head instead.
 * </ul>
 */
public record VisionExample(RgbImage image, TiledImage tiles, int cellsPerSide, int[] cellClasses, int[] tileEdges, String caption) {
    public static final int TOP = 1;
    public static final int BOTTOM = 2;
    public static final int LEFT = 4;
    public static final int RIGHT = 8;

    /** Draws and tiles {@code scene}; the tile grid is the scene's own (images are exact multiples of the tile size). */
    public static VisionExample of(Scene scene, WorldConfig config) {
        RgbImage image = scene.render(config);
        TiledImage tiled = new DynamicTiler(config.tileSize(), 1, config.maxTiles(), true).tile(image);
        TilePlan plan = tiled.plan();
        if (plan.cols() != scene.cols() || plan.rows() != scene.rows()) {
            throw new IllegalStateException("a " + scene.cols() + "x" + scene.rows() + " scene was tiled as " + plan.cols() + "x"
                    + plan.rows() + "; world images must be exact tile multiples");
        }
        int n = config.cellsPerTile();
        int[] imageClasses = scene.cellClasses(config);
        int width = scene.cols() * n;
        int[] classes = new int[plan.tileCount() * n * n];
        int[] edges = new int[plan.tileCount()];
        for (int k = 0; k < plan.tileCount(); k++) {
            if (plan.isThumbnail(k)) {
                java.util.Arrays.fill(classes, k * n * n, (k + 1) * n * n, F.IGNORE_INDEX);
                edges[k] = F.IGNORE_INDEX;
                continue;
            }
            int c = plan.column(k);
            int r = plan.row(k);
            for (int y = 0; y < n; y++) {
                System.arraycopy(imageClasses, (r * n + y) * width + c * n, classes, k * n * n + y * n, n);
            }
            edges[k] = (r == 0 ? TOP : 0) | (r == plan.rows() - 1 ? BOTTOM : 0) | (c == 0 ? LEFT : 0) | (c == plan.cols() - 1 ? RIGHT : 0);
        }
        return new VisionExample(image, tiled, n, classes, edges, scene.caption());
    }

    public int tileCount() {
        return tiles.plan().tileCount();
    }
}
