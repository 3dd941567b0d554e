package nvlm.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import nvlm.model.tiling.BicubicResampler;
import nvlm.model.tiling.DynamicTiler;
import nvlm.model.tiling.RgbImage;
import nvlm.model.tiling.TiledImage;
import org.junit.jupiter.api.Test;

/**
 * The world's text is legible in the tiles and not in the thumbnail (what makes dynamic high
 * resolution matter for OCR, paper Table 1). Measured on the pixels the model gets: the regular
 * tiles and the thumbnail cut by {@link DynamicTiler}, for every pair of glyphs of the default OCR
 * alphabet drawn in the same place.
 */
class ThumbnailReadabilityTest {
    private static final int S = 112;
    private static final WorldConfig CONFIG = WorldConfig.defaults(S);

    /** A board whose top-left tile holds one glyph at cell (1, 1), moved by (dx, dy). */
    private static RgbImage glyphImage(WorldConfig config, int cols, int rows, char c, int dx, int dy) {
        List<Scene.Item> items = new ArrayList<>();
        for (int k = 0; k < cols * rows; k++) {
            items.add(new Scene.Blank());
        }
        items.set(0, new Scene.Text(String.valueOf(c), 1, 1, new int[] {dx, dy}));
        return new Scene.Board(cols, rows, items).render(config);
    }

    private static float[] tile(float[] pixels, int k) {
        int n = 3 * S * S;
        float[] out = new float[n];
        System.arraycopy(pixels, k * n, out, 0, n);
        return out;
    }

    private static double distance(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) (a[i] - b[i]) * (a[i] - b[i]);
        }
        return Math.sqrt(s);
    }

    /** Thumbnail and first tile of the glyph image, as the model's normalized pixels. */
    private static float[][] views(WorldConfig config, int cols, int rows, char c, int dx, int dy) {
        TiledImage t = DynamicTiler.withDefaults(S).tile(glyphImage(config, cols, rows, c, dx, dy));
        assertEquals(cols, t.plan().cols());
        assertEquals(rows, t.plan().rows());
        return new float[][] {tile(t.pixels(), t.plan().tileCount() - 1), tile(t.pixels(), 0)};
    }

    /**
     * In the thumbnail of every grid that shrinks the image 3x along a side or 2x both ways,
     * turning a glyph into any other glyph changes the pixels less than moving it by one pixel
     * (the world's own glyph jitter): the glyph's identity is below the position noise. In the
     * tile, even the closest pair differs more than the thumbnail's most different pair, with the
     * thumbnail's fewer pixels compensated (x sqrt of the area ratio).
     */
    @Test
    void glyphIdentityIsBelowOnePixelOfJitterInTheThumbnailButNotInTheTile() {
        String alphabet = CONFIG.ocrAlphabet();
        int[][] grids = {{2, 2}, {3, 2}, {2, 3}, {3, 1}, {1, 3}, {4, 1}, {1, 4}};
        for (int[] g : grids) {
            float[][][] views = new float[alphabet.length()][][];
            double minShift = Double.MAX_VALUE;
            for (int a = 0; a < alphabet.length(); a++) {
                views[a] = views(CONFIG, g[0], g[1], alphabet.charAt(a), 0, 0);
                for (int[] d : new int[][] {{1, 0}, {-1, 0}, {0, 1}, {0, -1}}) {
                    float[] moved = views(CONFIG, g[0], g[1], alphabet.charAt(a), d[0], d[1])[0];
                    minShift = Math.min(minShift, distance(views[a][0], moved));
                }
            }
            double maxGlyphThumb = 0;
            double minGlyphTile = Double.MAX_VALUE;
            for (int a = 0; a < alphabet.length(); a++) {
                for (int b = a + 1; b < alphabet.length(); b++) {
                    maxGlyphThumb = Math.max(maxGlyphThumb, distance(views[a][0], views[b][0]));
                    minGlyphTile = Math.min(minGlyphTile, distance(views[a][1], views[b][1]));
                }
            }
            String grid = g[0] + "x" + g[1];
            assertTrue(maxGlyphThumb < minShift, grid + ": in the thumbnail the most different glyph pair differs by " + maxGlyphThumb
                    + ", a one-pixel move by at least " + minShift);
            assertTrue(minGlyphTile > maxGlyphThumb * Math.sqrt(g[0] * g[1]), grid + ": in the tile the closest glyph pair differs by "
                    + minGlyphTile + ", the thumbnail's most different pair by " + maxGlyphThumb + " (x sqrt of the area ratio)");
        }
    }

    /**
     * What is left of the difference between two glyphs after the thumbnail resize, relative to the
     * tile (1 if the resize kept it all, area ratio accounted for): at most a third for any pair
     * on 2x2, 3x2 and 2x3 grids, and a tenth on average for 3x2 and 2x3; solid ink keeps well over
     * half, which is why the world draws halftone text.
     */
    @Test
    void halftoneTextLosesMostOfItsSignalInTheThumbnailWhileSolidInkKeepsIt() {
        WorldConfig solid = CONFIG.withGlyphs(CONFIG.glyphScale(), CONFIG.glyphJitter(), false);
        String alphabet = CONFIG.ocrAlphabet();
        for (int[] g : new int[][] {{2, 2}, {3, 2}, {2, 3}}) {
            double[] halftone = surviving(CONFIG, g, alphabet);
            double[] ink = surviving(solid, g, alphabet);
            String grid = g[0] + "x" + g[1];
            assertTrue(halftone[1] <= 0.34, grid + ": halftone keeps up to " + halftone[1] + " of a glyph pair's difference");
            if (g[0] * g[1] == 6) {
                assertTrue(halftone[0] <= 0.1, grid + ": halftone keeps " + halftone[0] + " of a glyph pair's difference on average");
            }
            assertTrue(ink[0] >= 0.5, grid + ": solid ink keeps only " + ink[0] + " on average; the comparison is meaningless");
        }
    }

    /** {mean, max} over glyph pairs of |thumb(a) - thumb(b)| * sqrt(cols*rows) / |image(a) - image(b)|. */
    private static double[] surviving(WorldConfig config, int[] g, String alphabet) {
        float[][] full = new float[alphabet.length()][];
        float[][] thumb = new float[alphabet.length()][];
        for (int a = 0; a < alphabet.length(); a++) {
            RgbImage image = glyphImage(config, g[0], g[1], alphabet.charAt(a), 0, 0);
            full[a] = bytes(image);
            thumb[a] = bytes(BicubicResampler.resize(image, S, S));
        }
        double sum = 0;
        double max = 0;
        int pairs = 0;
        for (int a = 0; a < alphabet.length(); a++) {
            for (int b = a + 1; b < alphabet.length(); b++) {
                double r = distance(thumb[a], thumb[b]) * Math.sqrt(g[0] * g[1]) / distance(full[a], full[b]);
                sum += r;
                max = Math.max(max, r);
                pairs++;
            }
        }
        return new double[] {sum / pairs, max};
    }

    private static float[] bytes(RgbImage image) {
        float[] v = new float[image.rgb().length];
        for (int i = 0; i < v.length; i++) {
            v[i] = image.rgb()[i] & 0xff;
        }
        return v;
    }

    /** The tiles are exact crops of the drawing: the glyph's pixels reach the model unchanged. */
    @Test
    void tilesAreExactCropsOfTheDrawing() {
        RgbImage image = glyphImage(CONFIG, 3, 2, 'K', 1, 0);
        TiledImage t = DynamicTiler.withDefaults(S).tile(image);
        float[] first = tile(t.pixels(), 0);
        float[] mean = {0.485f, 0.456f, 0.406f};
        float[] std = {0.229f, 0.224f, 0.225f};
        for (int y = 0; y < S; y++) {
            for (int x = 0; x < S; x++) {
                for (int c = 0; c < 3; c++) {
                    float expected = (image.get(x, y, c) / 255f - mean[c]) / std[c];
                    assertEquals(expected, first[c * S * S + y * S + x], 1e-6f, "tile pixel (" + x + "," + y + ") channel " + c);
                }
            }
        }
    }
}
