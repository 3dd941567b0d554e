package nvlm.model.tiling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class DynamicTilerTest {

    /** One row of internvl_tiling_cases.tsv, produced by InternVL's own algorithm (internvl_tiling.py). */
    record Case(int width, int height, int tileSize, int minTiles, int maxTiles, boolean useThumbnail, int cols, int rows,
                int tiles, boolean thumbnail, List<int[]> boxes, String why) {
        @Override
        public String toString() {
            return width + "x" + height + " S=" + tileSize + " tiles " + minTiles + ".." + maxTiles
                    + (useThumbnail ? "" : " no-thumb") + " (" + why + ")";
        }
    }

    static Stream<Case> internVlCases() throws IOException {
        List<Case> cases = new ArrayList<>();
        for (String line : resource("internvl_tiling_cases.tsv").split("\n")) {
            if (line.startsWith("#") || line.startsWith("width") || line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t");
            List<int[]> boxes = new ArrayList<>();
            for (String box : f[10].split(";")) {
                String[] v = box.split(",");
                boxes.add(new int[] {Integer.parseInt(v[0]), Integer.parseInt(v[1]), Integer.parseInt(v[2]), Integer.parseInt(v[3])});
            }
            cases.add(new Case(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2]), Integer.parseInt(f[3]),
                    Integer.parseInt(f[4]), Boolean.parseBoolean(f[5]), Integer.parseInt(f[6]), Integer.parseInt(f[7]),
                    Integer.parseInt(f[8]), Boolean.parseBoolean(f[9]), boxes, f[11]));
        }
        assertTrue(cases.size() >= 40, "table has " + cases.size() + " cases");
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("internVlCases")
    void gridTileOrderAndThumbnailMatchInternVl(Case c) {
        TilePlan plan = new DynamicTiler(c.tileSize, c.minTiles, c.maxTiles, c.useThumbnail).plan(c.width, c.height);
        assertEquals(c.cols, plan.cols(), "cols");
        assertEquals(c.rows, plan.rows(), "rows");
        assertEquals(c.thumbnail, plan.thumbnail(), "thumbnail");
        assertEquals(c.tiles, plan.tileCount(), "tiles");
        assertEquals(c.boxes.size(), plan.gridTiles());
        for (int k = 0; k < plan.gridTiles(); k++) {
            assertArrayEquals(c.boxes.get(k), plan.pixelBox(k), "crop box of tile " + k);
        }
    }

    @Test
    void candidateOrderIsProductThenColumns() {
        List<int[]> grids = DynamicTiler.withDefaults(448).candidates();
        int[][] expected = {{1, 1}, {1, 2}, {2, 1}, {1, 3}, {3, 1}, {1, 4}, {2, 2}, {4, 1}, {1, 5}, {5, 1},
                {1, 6}, {2, 3}, {3, 2}, {6, 1}};
        assertEquals(14, grids.size(), "docs/model.md §1: 14 grids for max 6");
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], grids.get(i), "candidate " + i);
        }
    }

    @Test
    void everyPlanIsACandidateWithinTheTileBudget() {
        qt().withExamples(300).forAll(integers().between(1, 5000), integers().between(1, 5000), integers().between(1, 12))
                .checkAssert((w, h, max) -> {
                    TilePlan plan = new DynamicTiler(448, 1, max, true).plan(w, h);
                    assertTrue(plan.gridTiles() <= max);
                    assertEquals(plan.gridTiles() > 1, plan.thumbnail());
                    assertEquals(plan.gridTiles() + (plan.thumbnail() ? 1 : 0), plan.tileCount());
                    // No candidate is strictly nearer in aspect than the chosen grid.
                    double best = Math.abs((double) w / h - (double) plan.cols() / plan.rows());
                    for (int[] g : DynamicTiler.candidateGrids(1, max)) {
                        assertTrue(Math.abs((double) w / h - (double) g[0] / g[1]) >= best, w + "x" + h);
                    }
                });
    }

    @Test
    void lowResolutionModeIsOneWholeImageTile() {
        TilePlan plan = DynamicTiler.lowResolution(448).plan(1920, 1080);
        assertEquals(1, plan.cols());
        assertEquals(1, plan.rows());
        assertFalse(plan.thumbnail());
        assertEquals(1, plan.tileCount());
        assertArrayEquals(new double[] {0, 0, 1, 1}, plan.normalizedBox(0));
    }

    @Test
    void invalidSizesAreRejectedWithTheirValues() {
        DynamicTiler tiler = DynamicTiler.withDefaults(448);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> tiler.plan(0, 10)).getMessage().contains("0x10"));
        assertThrows(IllegalArgumentException.class, () -> new DynamicTiler(448, 3, 2, true));
        assertThrows(IllegalArgumentException.class, () -> new DynamicTiler(0, 1, 6, true));
    }

    /** Fixtures from pil_resize_fixtures.py: InternVL's resize + crop + ToTensor + Normalize in PIL/numpy. */
    @Test
    void tilePixelsMatchInternVlPreprocessing() throws IOException {
        for (String line : resource("tiles_cases.tsv").split("\n")) {
            if (line.startsWith("input") || line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t");
            RgbImage image = BicubicResamplerTest.loadResource(f[0]);
            int s = Integer.parseInt(f[1]);
            TiledImage tiled = DynamicTiler.withDefaults(s).tile(image);
            assertEquals(Integer.parseInt(f[2]), tiled.plan().cols(), f[0]);
            assertEquals(Integer.parseInt(f[3]), tiled.plan().rows(), f[0]);
            assertEquals(Boolean.parseBoolean(f[4]), tiled.plan().thumbnail(), f[0]);
            float[] expected = floats(f[5]);
            assertEquals(expected.length, tiled.pixels().length, f[5]);
            double maxDiff = 0;
            for (int i = 0; i < expected.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(expected[i] - tiled.pixels()[i]));
            }
            // Same bytes (the resize is PIL-exact) and the same float32 operations as torchvision.
            assertEquals(0.0, maxDiff, 1e-6, f[5] + ": max |difference|");
        }
    }

    @Test
    void tilesAreChannelMajorAndNormalizedWithImageNetStatistics() {
        byte[] rgb = new byte[4 * 2 * 3];
        for (int p = 0; p < 8; p++) {
            rgb[p * 3] = (byte) 255; // red 1.0, green 0, blue 0.5
            rgb[p * 3 + 2] = (byte) 128;
        }
        RgbImage image = new RgbImage(4, 2, rgb);
        TiledImage tiled = new DynamicTiler(2, 1, 6, true).tile(image); // 2:1 -> 2x1 grid + thumbnail
        assertEquals(3, tiled.plan().tileCount());
        float[] p = tiled.pixels();
        for (int t = 0; t < 3; t++) {
            for (int i = 0; i < 4; i++) {
                assertEquals((1f - 0.485f) / 0.229f, p[t * 12 + i], 1e-6);
                assertEquals((0f - 0.456f) / 0.224f, p[t * 12 + 4 + i], 1e-6);
                assertEquals((128 / 255f - 0.406f) / 0.225f, p[t * 12 + 8 + i], 1e-6);
            }
        }
    }

    static float[] floats(String name) throws IOException {
        try (InputStream in = DynamicTilerTest.class.getResourceAsStream(name)) {
            byte[] bytes = in.readAllBytes();
            float[] out = new float[bytes.length / 4];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            return out;
        }
    }

    static String resource(String name) throws IOException {
        try (InputStream in = DynamicTilerTest.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("missing test resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
