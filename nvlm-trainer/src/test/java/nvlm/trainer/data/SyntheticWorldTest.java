package nvlm.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import nvlm.model.tiling.DynamicTiler;
import nvlm.model.tiling.RgbImage;
import nvlm.model.tiling.TilePlan;
import nvlm.tensor.F;
import org.junit.jupiter.api.Test;

class SyntheticWorldTest {
    private static final SyntheticWorld WORLD = new SyntheticWorld(WorldConfig.defaults(112));

    @Test
    void sameSeedGivesTheSameBytesAndAnotherSeedDoesNot() {
        SyntheticWorld again = new SyntheticWorld(WorldConfig.defaults(112));
        SyntheticWorld other = new SyntheticWorld(WorldConfig.defaults(112).withSeed(2));
        for (Family f : Family.values()) {
            int differing = 0;
            for (int i = 0; i < 10; i++) {
                Example a = WORLD.example(Split.TRAIN, f, i);
                Example b = again.example(Split.TRAIN, f, i);
                assertEquals(a.turns(), b.turns(), f + " " + i);
                assertEquals(a.images().size(), b.images().size());
                for (int k = 0; k < a.images().size(); k++) {
                    assertArrayEquals(a.images().get(k).rgb(), b.images().get(k).rgb(), f + " " + i + " image bytes");
                }
                if (!other.example(Split.TRAIN, f, i).turns().equals(a.turns())) {
                    differing++;
                }
            }
            assertTrue(differing >= 5, f + ": only " + differing + " of 10 examples change with the seed");
        }
    }

    @Test
    void imagesAreExactTileMultiplesWithinOneToFourAndDhrPicksTheSceneGrid() {
        for (int s : new int[] {112, 224}) {
            SyntheticWorld world = new SyntheticWorld(WorldConfig.defaults(s));
            DynamicTiler tiler = DynamicTiler.withDefaults(s);
            Set<String> grids = new HashSet<>();
            for (Family f : List.of(Family.CAPTION, Family.OCR, Family.COUNTING, Family.SPATIAL, Family.CHART)) {
                for (int i = 0; i < 60; i++) {
                    Task t = world.task(Split.TRAIN, f, i);
                    Scene scene = t.scene();
                    int w = scene.cols() * s;
                    int h = scene.rows() * s;
                    assertTrue(Math.max(w, h) <= 4 * Math.min(w, h), "aspect of " + w + "x" + h);
                    TilePlan plan = tiler.plan(w, h);
                    assertEquals(scene.cols(), plan.cols(), f + " " + i + " " + w + "x" + h);
                    assertEquals(scene.rows(), plan.rows(), f + " " + i + " " + w + "x" + h);
                    grids.add(plan.cols() + "x" + plan.rows());
                }
                RgbImage image = world.example(Split.TRAIN, f, 0).images().getFirst();
                assertEquals(0, image.width() % s);
                assertEquals(0, image.height() % s);
            }
            // Every grid of 1..6 tiles within 1:4..4:1 shows up: 1x1, 1x2, 2x1, 1x3, 3x1, 1x4, 4x1, 2x2, 2x3, 3x2.
            assertEquals(10, grids.size(), "grids seen at S=" + s + ": " + grids);
        }
    }

    @Test
    void ocrAnswersAreTheCodeDrawnInTheTiles() {
        WorldConfig c = WORLD.config();
        for (int i = 0; i < 40; i++) {
            Task t = WORLD.task(Split.TRAIN, Family.OCR, i);
            Scene.Board board = (Scene.Board) t.scene();
            assertEquals(SyntheticWorld.OCR_QUESTION, t.question());
            assertEquals(board.text().code(), t.answer());
            assertTrue(t.answer().length() >= c.codeMinLength() && t.answer().length() <= c.codeMaxLength());
            for (char ch : t.answer().toCharArray()) {
                assertTrue(c.ocrAlphabet().indexOf(ch) >= 0, "'" + ch + "' outside the OCR alphabet");
            }
            assertEquals(t.answer(), GlyphReader.read(board.render(c), c, board), "example " + i);
        }
    }

    @Test
    void countingAnswersCountTheShapesOfTheAskedKindOrColour() {
        Pattern colour = Pattern.compile("How many (\\w+) shapes are there\\?");
        Pattern shape = Pattern.compile("How many (\\w+) are there\\?");
        int[] seen = new int[10];
        for (int i = 0; i < 200; i++) {
            Task t = WORLD.task(Split.TRAIN, Family.COUNTING, i);
            Scene.Scatter s = (Scene.Scatter) t.scene();
            Matcher mc = colour.matcher(t.question());
            Matcher ms = shape.matcher(t.question());
            long expected;
            if (mc.matches()) {
                expected = s.shapes().stream().filter(p -> p.colour().word().equals(mc.group(1))).count();
            } else {
                assertTrue(ms.matches(), t.question());
                expected = s.shapes().stream().filter(p -> p.shape().plural().equals(ms.group(1))).count();
            }
            assertEquals(String.valueOf(expected), t.answer(), t.question());
            seen[(int) expected]++;
            Set<String> cells = new HashSet<>();
            for (Scene.Placed p : s.shapes()) {
                assertTrue(cells.add(p.cellX() + "," + p.cellY()), "two shapes in one cell");
            }
        }
        for (int n = 1; n <= WORLD.config().maxCount(); n++) {
            assertTrue(seen[n] > 0, "no counting answer " + n + " in 200 examples");
        }
        assertEquals(0, seen[0] + seen[7] + seen[8] + seen[9]);
    }

    @Test
    void spatialAnswersNameTheShapeInTheNamedTile() {
        for (int i = 0; i < 100; i++) {
            Task t = WORLD.task(Split.TRAIN, Family.SPATIAL, i);
            Scene.Board b = (Scene.Board) t.scene();
            Matcher m = Pattern.compile("What is in the (.+) part\\?").matcher(t.question());
            assertTrue(m.matches(), t.question());
            String[] words = m.group(1).split(" ");
            assertEquals((b.rows() > 1 ? 1 : 0) + (b.cols() > 1 ? 1 : 0), words.length, t.question());
            int row = b.rows() == 1 ? 0 : position(words[0], b.rows(), "top", "bottom");
            int col = b.cols() == 1 ? 0 : position(words[words.length - 1], b.cols(), "left", "right");
            assertEquals(b.items().get(row * b.cols() + col).describe(), t.answer(), t.question() + " on " + b.caption());
            assertTrue(t.answer().matches("(red|green|blue) (circle|square|triangle)"), t.answer());
        }
    }

    private static int position(String word, int n, String first, String last) {
        if (word.equals(first)) {
            return 0;
        }
        if (word.equals(last)) {
            return n - 1;
        }
        assertEquals("middle", word);
        assertEquals(3, n, "'middle' on a side of " + n + " tiles");
        return 1;
    }

    @Test
    void regionNamesAreDistinctWithinEveryGrid() {
        for (int[] g : WORLD.config().spatialGrids()) {
            Set<String> names = new HashSet<>();
            for (int r = 0; r < g[1]; r++) {
                for (int c = 0; c < g[0]; c++) {
                    String name = SyntheticWorld.regionName(g[0], g[1], c, r);
                    assertFalse(name.isBlank());
                    assertTrue(names.add(name), "two tiles of " + g[0] + "x" + g[1] + " named " + name);
                }
            }
        }
        assertEquals("top left", SyntheticWorld.regionName(2, 2, 0, 0));
        assertEquals("bottom right", SyntheticWorld.regionName(3, 2, 2, 1));
        assertEquals("middle", SyntheticWorld.regionName(1, 3, 0, 1));
        assertEquals("right", SyntheticWorld.regionName(3, 1, 2, 0));
    }

    @Test
    void chartAnswersComeFromTheBarValuesAndTheTallestBarIsUnique() {
        Pattern value = Pattern.compile("What is the value of bar ([A-Z])\\?");
        for (int i = 0; i < 100; i++) {
            Task t = WORLD.task(Split.TRAIN, Family.CHART, i);
            Scene.Chart c = (Scene.Chart) t.scene();
            int[] v = c.values();
            int max = Arrays.stream(v).max().orElseThrow();
            assertEquals(1, Arrays.stream(v).filter(x -> x == max).count(), Arrays.toString(v));
            Matcher m = value.matcher(t.question());
            if (m.matches()) {
                assertEquals(String.valueOf(v[m.group(1).charAt(0) - 'A']), t.answer());
            } else {
                assertEquals(SyntheticWorld.TALLEST_QUESTION, t.question());
                assertEquals(String.valueOf((char) ('A' + indexOf(v, max))), t.answer());
            }
            int[] cells = c.cellClasses(WORLD.config());
            int bars = (int) Arrays.stream(cells).filter(x -> x == CellClass.BAR).count();
            assertEquals(Arrays.stream(v).sum(), bars, "one bar cell per unit");
        }
    }

    private static int indexOf(int[] v, int x) {
        for (int i = 0; i < v.length; i++) {
            if (v[i] == x) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void textTasksHaveCorrectShortAnswersAndNoImage() {
        Pattern sum = Pattern.compile("What is (\\d+)([+-])(\\d+)\\?");
        for (int i = 0; i < 200; i++) {
            Example e = WORLD.example(Split.TRAIN, Family.TEXT_ARITHMETIC, i);
            assertTrue(e.images().isEmpty());
            Matcher m = sum.matcher(e.question());
            assertTrue(m.matches(), e.question());
            int a = Integer.parseInt(m.group(1));
            int b = Integer.parseInt(m.group(3));
            assertTrue(a <= WORLD.config().arithmeticMax() && b <= WORLD.config().arithmeticMax());
            assertEquals(String.valueOf(m.group(2).equals("+") ? a + b : a - b), e.answer(), e.question());
            assertFalse(e.answer().startsWith("-"));
        }
        Pattern reverse = Pattern.compile("Reverse the letters ([A-Z]+)\\.");
        Pattern sort = Pattern.compile("Sort the letters ([A-Z]+)\\.");
        Pattern caps = Pattern.compile("Write ([a-z]+) in capital letters\\.");
        Set<String> kinds = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            Example e = WORLD.example(Split.TRAIN, Family.TEXT_STRING, i);
            assertTrue(e.images().isEmpty());
            String q = e.question();
            Matcher m;
            String expected;
            if ((m = reverse.matcher(q)).matches()) {
                expected = new StringBuilder(m.group(1)).reverse().toString();
                kinds.add("reverse");
            } else if ((m = sort.matcher(q)).matches()) {
                char[] chars = m.group(1).toCharArray();
                Arrays.sort(chars);
                expected = new String(chars);
                kinds.add("sort");
            } else if ((m = caps.matcher(q)).matches()) {
                expected = m.group(1).toUpperCase(java.util.Locale.ROOT);
                kinds.add("caps");
            } else {
                throw new AssertionError("unexpected string question " + q);
            }
            assertEquals(expected, e.answer(), q);
            assertTrue(expected.length() >= 3 && expected.length() <= 4);
        }
        assertEquals(3, kinds.size());
    }

    @Test
    void describedViewReplacesTheImageByItsCaption() {
        for (Family f : Family.values()) {
            Example image = WORLD.example(Split.VALIDATION, f, 3);
            Example text = WORLD.describedExample(Split.VALIDATION, f, 3);
            assertTrue(text.images().isEmpty());
            assertEquals(image.answer(), text.answer());
            if (f.hasImage()) {
                Task t = WORLD.task(Split.VALIDATION, f, 3);
                assertEquals(1, image.images().size());
                assertEquals("Picture: " + t.scene().caption() + "\n" + t.question(), text.question());
            } else {
                assertEquals(image.turns(), text.turns());
            }
        }
        Task cap = WORLD.task(Split.TRAIN, Family.CAPTION, 0);
        assertEquals(cap.scene().caption(), cap.answer());
    }

    @Test
    void captionsDescribeTheScene() {
        List<Scene.Item> items = List.of(new Scene.Figure(Shape.CIRCLE, Colour.RED), new Scene.Text("K7Q", 0, 1, new int[6]),
                new Scene.Blank(), new Scene.Figure(Shape.SQUARE, Colour.BLUE));
        assertEquals("board 2x2: red circle, text K7Q, empty, blue square", new Scene.Board(2, 2, items).caption());
        Scene.Scatter s = new Scene.Scatter(1, 1, List.of(new Scene.Placed(Shape.CIRCLE, Colour.RED, 0, 0),
                new Scene.Placed(Shape.SQUARE, Colour.BLUE, 1, 0), new Scene.Placed(Shape.CIRCLE, Colour.RED, 2, 0)));
        assertEquals("shapes: 2 red circles, 1 blue square", s.caption());
        Scene.Chart c = new Scene.Chart(2, 2, new int[] {3, 5, 1}, Colour.GREEN, 1, new int[6]);
        assertEquals("chart: A 3, B 5, C 1", c.caption());
        assertEquals(1, c.tallest());
    }

    @Test
    void outlinesAgreeWithExamples() {
        for (Family f : Family.values()) {
            for (boolean described : new boolean[] {false, true}) {
                for (int i = 0; i < 5; i++) {
                    Example e = described ? WORLD.describedExample(Split.TEST, f, i) : WORLD.example(Split.TEST, f, i);
                    Outline o = WORLD.outline(Split.TEST, f, i, described);
                    Outline fromExample = e.outline();
                    assertEquals(fromExample.id(), o.id());
                    assertEquals(fromExample.turns(), o.turns());
                    assertArrayEquals(fromExample.widths(), o.widths());
                    assertArrayEquals(fromExample.heights(), o.heights());
                }
            }
        }
    }

    @Test
    void visionExamplesLabelEveryRegularTileCellAndIgnoreTheThumbnail() {
        WorldConfig c = WORLD.config();
        int n = c.cellsPerTile();
        Set<Integer> classes = new HashSet<>();
        for (int i = 0; i < 40; i++) {
            VisionExample v = WORLD.visionExample(Split.TRAIN, i);
            TilePlan plan = v.tiles().plan();
            assertEquals(plan.tileCount() * n * n, v.cellClasses().length);
            for (int k = 0; k < plan.tileCount(); k++) {
                for (int j = 0; j < n * n; j++) {
                    int cls = v.cellClasses()[k * n * n + j];
                    if (plan.isThumbnail(k)) {
                        assertEquals(F.IGNORE_INDEX, cls);
                    } else {
                        assertTrue(cls >= 0 && cls < CellClass.COUNT, "class " + cls);
                        classes.add(cls);
                    }
                }
                if (plan.isThumbnail(k)) {
                    assertEquals(F.IGNORE_INDEX, v.tileEdges()[k]);
                } else {
                    int e = v.tileEdges()[k];
                    assertEquals(plan.row(k) == 0, (e & VisionExample.TOP) != 0);
                    assertEquals(plan.row(k) == plan.rows() - 1, (e & VisionExample.BOTTOM) != 0);
                    assertEquals(plan.column(k) == 0, (e & VisionExample.LEFT) != 0);
                    assertEquals(plan.column(k) == plan.cols() - 1, (e & VisionExample.RIGHT) != 0);
                }
            }
        }
        assertTrue(classes.contains(CellClass.EMPTY) && classes.contains(CellClass.BAR), "classes seen: " + classes);
        assertTrue(classes.stream().anyMatch(x -> x >= CellClass.FIRST_GLYPH && x < CellClass.FIRST_SHAPE), "no glyph cells");
        assertTrue(classes.stream().anyMatch(x -> x >= CellClass.FIRST_SHAPE && x < CellClass.BAR), "no shape cells");
        VisionBatch batch = VisionBatch.of(List.of(WORLD.visionExample(Split.TRAIN, 0), WORLD.visionExample(Split.TRAIN, 1)));
        long tiles = WORLD.visionExample(Split.TRAIN, 0).tileCount() + WORLD.visionExample(Split.TRAIN, 1).tileCount();
        assertArrayEquals(new long[] {tiles, 3, 112, 112}, batch.pixelValues().shape());
        assertArrayEquals(new long[] {tiles, (long) n * n}, batch.cellClasses().shape());
        assertArrayEquals(new long[] {tiles}, batch.tileEdges().shape());
    }

    @Test
    void cellClassesMatchWhatIsDrawnInEachCell() {
        WorldConfig c = WORLD.config();
        for (int i = 0; i < 30; i++) {
            Scene scene = WORLD.task(Split.TRAIN, Family.CAPTION, i).scene();
            RgbImage image = scene.render(c);
            int[] cells = scene.cellClasses(c);
            int width = scene.cols() * c.cellsPerTile();
            for (int j = 0; j < cells.length; j++) {
                int cx = j % width;
                int cy = j / width;
                int colour = centreColour(image, c, cx, cy);
                int cls = cells[j];
                if (cls >= CellClass.FIRST_SHAPE && cls < CellClass.BAR) {
                    Colour expected = Colour.values()[(cls - CellClass.FIRST_SHAPE) % Colour.values().length];
                    assertTrue(containsColour(image, c, cx, cy, expected.rgb()), CellClass.name(cls) + " at cell " + cx + "," + cy);
                } else if (cls == CellClass.BAR) {
                    assertTrue(colour != WorldConfig.BACKGROUND, "bar cell " + cx + "," + cy + " is empty");
                } else if (cls == CellClass.EMPTY) {
                    assertEquals(WorldConfig.BACKGROUND, colour, "empty cell " + cx + "," + cy + " in " + scene.caption());
                }
            }
        }
    }

    private static int centreColour(RgbImage image, WorldConfig c, int cx, int cy) {
        return image.rgbAt(cx * c.cellSize() + c.cellSize() / 2, cy * c.cellSize() + c.cellSize() / 2);
    }

    private static boolean containsColour(RgbImage image, WorldConfig c, int cx, int cy, int rgb) {
        for (int y = 0; y < c.cellSize(); y++) {
            for (int x = 0; x < c.cellSize(); x++) {
                if (image.rgbAt(cx * c.cellSize() + x, cy * c.cellSize() + y) == rgb) {
                    return true;
                }
            }
        }
        return false;
    }

    @Test
    void worldForAModelMatchesItsTileSizePatchesAndMaxTiles() {
        for (int s : new int[] {112, 224}) {
            WorldConfig c = WorldConfig.forModel(Models.config(nvlm.model.config.Architecture.D, s), 9);
            assertEquals(s, c.tileSize());
            assertEquals(28, c.cellSize());
            assertEquals(6, c.maxTiles());
            assertEquals(9, c.seed());
        }
    }

    @Test
    void configRejectsImpossibleKnobs() {
        WorldConfig d = WorldConfig.defaults(112);
        assertThrows(IllegalArgumentException.class, () -> d.withOcr("AB?", 3, 3));
        assertThrows(IllegalArgumentException.class, () -> d.withOcr("ABC", 3, 5));
        assertThrows(IllegalArgumentException.class, () -> d.withGlyphs(3, 1, true));
        assertThrows(IllegalArgumentException.class, () -> d.withPalette(7, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WorldConfig.defaults(100));
        assertTrue(e.getMessage().contains("multiple of the cell size"), e.getMessage());
        assertNotNull(WorldConfig.defaults(224));
        assertNull(new Scene.Board(1, 1, List.of(new Scene.Blank())).text());
    }
}
