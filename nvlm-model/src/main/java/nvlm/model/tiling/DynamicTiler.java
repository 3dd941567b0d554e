package nvlm.model.tiling;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Dynamic high-resolution tiling (docs/model.md §1, InternVL's {@code dynamic_preprocess}):
 * picks the grid whose aspect ratio is nearest the image's, then turns the image into normalized
 * tiles.
 *
 * <p>The grid choice follows InternVL's {@code find_closest_aspect_ratio} exactly, with the
 * candidate order fixed by docs/model.md §1 (by {@code i*j}, then by {@code i}); the table test checks it
 * against a transcription of InternVL's code ({@code internvl_tiling.py} in the test resources).
 */
public final class DynamicTiler {
    /** ImageNet statistics used by InternVL's transform (docs/model.md §1 step 5). */
    static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    static final float[] STD = {0.229f, 0.224f, 0.225f};

    private final int tileSize;
    private final int minTiles;
    private final int maxTiles;
    private final boolean useThumbnail;
    private final List<int[]> candidates;

    public DynamicTiler(int tileSize, int minTiles, int maxTiles, boolean useThumbnail) {
        if (tileSize <= 0) {
            throw new IllegalArgumentException("tile size must be positive, got " + tileSize);
        }
        if (minTiles < 1 || maxTiles < minTiles) {
            throw new IllegalArgumentException("need 1 <= min_tiles <= max_tiles, got min " + minTiles + ", max " + maxTiles);
        }
        this.tileSize = tileSize;
        this.minTiles = minTiles;
        this.maxTiles = maxTiles;
        this.useThumbnail = useThumbnail;
        this.candidates = candidateGrids(minTiles, maxTiles);
    }

    /** The defaults of docs/model.md §1: min 1, max 6 tiles, thumbnail on. */
    public static DynamicTiler withDefaults(int tileSize) {
        return new DynamicTiler(tileSize, 1, 6, true);
    }

    /**
     * Low-resolution mode (the paper's ablation baseline): the whole image resized to one
     * {@code tileSize x tileSize} tile. With max_tiles 1 the only candidate is 1x1, and a 1x1 grid
     * never gets a thumbnail, so this is the same code path.
     */
    public static DynamicTiler lowResolution(int tileSize) {
        return new DynamicTiler(tileSize, 1, 1, false);
    }

    public int tileSize() {
        return tileSize;
    }

    public int minTiles() {
        return minTiles;
    }

    public int maxTiles() {
        return maxTiles;
    }

    public boolean useThumbnail() {
        return useThumbnail;
    }

    /** Candidate grids {@code {cols, rows}} in the order they are tried (docs/model.md §1 step 1). */
    public List<int[]> candidates() {
        List<int[]> copy = new ArrayList<>();
        for (int[] c : candidates) {
            copy.add(c.clone());
        }
        return copy;
    }

    static List<int[]> candidateGrids(int minTiles, int maxTiles) {
        List<int[]> grids = new ArrayList<>();
        for (int product = minTiles; product <= maxTiles; product++) {
            for (int i = 1; i <= product; i++) {
                if (product % i == 0) {
                    grids.add(new int[] {i, product / i});
                }
            }
        }
        return Collections.unmodifiableList(grids);
    }

    /** The grid for an image of {@code width x height} pixels (docs/model.md §1 steps 1-4). */
    public TilePlan plan(int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        double aspect = (double) width / height;
        double area = (double) width * height;
        int bestCols = 1;
        int bestRows = 1;
        double bestDiff = Double.POSITIVE_INFINITY;
        for (int[] grid : candidates) {
            int i = grid[0];
            int j = grid[1];
            double diff = Math.abs(aspect - (double) i / j);
            if (diff < bestDiff) {
                bestDiff = diff;
                bestCols = i;
                bestRows = j;
            } else if (diff == bestDiff && area > 0.5 * tileSize * tileSize * i * j) {
                // InternVL's tie rule: a bigger grid wins a tie only for an image large enough to fill half of it.
                bestCols = i;
                bestRows = j;
            }
        }
        boolean thumbnail = useThumbnail && bestCols * bestRows > 1;
        return new TilePlan(width, height, tileSize, bestCols, bestRows, thumbnail);
    }

    /** Plans and cuts {@code image} into normalized tiles. */
    public TiledImage tile(RgbImage image) {
        TilePlan plan = plan(image.width(), image.height());
        return new TiledImage(plan, pixelValues(image, plan));
    }

    /**
     * The tiles of {@code plan} as {@code float[tiles * 3 * S * S]}: tile-major, then channel
     * (R, G, B), row, column (docs/model.md §1 steps 3-5). Regular tiles are cut from one bicubic resize of
     * the whole image to {@code (S*cols, S*rows)}; the thumbnail is a separate resize to S x S.
     */
    public static float[] pixelValues(RgbImage image, TilePlan plan) {
        if (image.width() != plan.imageWidth() || image.height() != plan.imageHeight()) {
            throw new IllegalArgumentException("plan is for a " + plan.imageWidth() + "x" + plan.imageHeight()
                    + " image, got " + image.width() + "x" + image.height());
        }
        int s = plan.tileSize();
        int tilePixels = 3 * s * s;
        float[] out = new float[Math.multiplyExact(plan.tileCount(), tilePixels)];
        RgbImage grid = BicubicResampler.resize(image, s * plan.cols(), s * plan.rows());
        for (int k = 0; k < plan.gridTiles(); k++) {
            int[] box = plan.pixelBox(k);
            writeNormalized(grid, box[0], box[1], s, out, k * tilePixels);
        }
        if (plan.thumbnail()) {
            RgbImage thumb = BicubicResampler.resize(image, s, s);
            writeNormalized(thumb, 0, 0, s, out, plan.gridTiles() * tilePixels);
        }
        return out;
    }

    /** Copies an S x S crop into {@code out} as {@code (v/255 - mean)/std}, channel-major, in float32 like torchvision. */
    private static void writeNormalized(RgbImage image, int x0, int y0, int s, float[] out, int offset) {
        byte[] rgb = image.rgb();
        int plane = s * s;
        for (int y = 0; y < s; y++) {
            int src = ((y0 + y) * image.width() + x0) * 3;
            int dst = offset + y * s;
            for (int x = 0; x < s; x++, src += 3) {
                for (int c = 0; c < 3; c++) {
                    float v = (rgb[src + c] & 0xff) / 255f;
                    out[dst + c * plane + x] = (v - MEAN[c]) / STD[c];
                }
            }
        }
    }
}
