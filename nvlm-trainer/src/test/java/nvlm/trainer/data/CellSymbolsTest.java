package nvlm.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.model.prompt.Sample;
import nvlm.model.tiling.TagMode;
import nvlm.model.tiling.TilePlan;
import nvlm.model.tokenizer.ProjectTokenizer;
import org.junit.jupiter.api.Test;

class CellSymbolsTest {
    private static final NvlmConfig TINY = Presets.get("tiny", Architecture.D);
    private static final SyntheticWorld WORLD = new SyntheticWorld(WorldConfig.forModel(TINY, 3));
    private static final SampleEncoder ENCODER = SampleEncoder.forConfig(TINY, ProjectTokenizer.instance(),
            SampleEncoder.Options.defaults());

    @Test
    void symbolsTellContentAndTheImageEdgesOfEmptyCells() {
        assertEquals('.', CellSymbols.symbol(CellClass.EMPTY, false, false, false, false));
        assertEquals('(', CellSymbols.symbol(CellClass.EMPTY, true, false, true, false));
        assertEquals(']', CellSymbols.symbol(CellClass.EMPTY, false, true, false, true));
        assertEquals('_', CellSymbols.symbol(CellClass.EMPTY, false, true, false, false));
        assertEquals('K', CellSymbols.symbol(CellClass.glyph('K'), true, false, true, false), "content wins over the frame");
        assertEquals('a', CellSymbols.symbol(CellClass.shape(Shape.CIRCLE, Colour.RED), false, false, false, false));
        assertEquals('#', CellSymbols.symbol(CellClass.BAR, false, false, false, false));
        Set<Character> distinct = new HashSet<>();
        for (char c : CellSymbols.ALPHABET.toCharArray()) {
            distinct.add(c);
            assertEquals(c, CellSymbols.ALPHABET.charAt(CellSymbols.classOf(c)));
        }
        assertEquals(CellSymbols.COUNT, distinct.size(), "symbols are distinct");
        assertEquals(-1, CellSymbols.ALPHABET.indexOf(CellSymbols.THUMBNAIL), "thumbnail cells are no class of the vision head");
    }

    @Test
    void theFrameSymbolsOutlineTheImage() {
        Scene.Board board = new Scene.Board(3, 2, List.of(new Scene.Blank(), new Scene.Blank(), new Scene.Blank(), new Scene.Blank(),
                new Scene.Blank(), new Scene.Blank()));
        WorldConfig config = WORLD.config();
        int[] classes = board.cellClasses(config);
        assertEquals("(^^^{...{...{...", new String(CellSymbols.ofTile(board, config, classes, 0)), "top left tile");
        assertEquals("^^^^............", new String(CellSymbols.ofTile(board, config, classes, 1)), "top middle tile");
        assertEquals("...}...}...}___]", new String(CellSymbols.ofTile(board, config, classes, 5)), "bottom right tile");
        assertEquals("????????????????", new String(CellSymbols.ofTile(board, config, classes, 6)), "the thumbnail");
        Scene.Board single = new Scene.Board(1, 1, List.of(new Scene.Figure(Shape.SQUARE, Colour.BLUE)));
        assertEquals("<Image><tile_global_thumbnail>(^^){ii}{ii}[__]</Image>", CellSymbols.imageText(single, config, TagMode.ONE_D),
                "a single tile is the whole picture: real cells, the thumbnail tag, no thumbnail");
    }

    @Test
    void theCellsViewIsThePictureAsTextInDsLayoutForEvaluationOnly() {
        for (Family f : List.of(Family.OCR, Family.COUNTING, Family.SPATIAL, Family.CHART)) {
            for (int i = 0; i < 5; i++) {
                Task task = WORLD.task(Split.VALIDATION, f, i);
                Example cells = WORLD.example(Split.VALIDATION, f, i, View.CELLS, TagMode.ONE_D);
                assertTrue(cells.images().isEmpty(), "no picture in the cells view");
                assertEquals(CellSymbols.imageText(task.scene(), WORLD.config(), TagMode.ONE_D) + "\n" + task.question(),
                        cells.turns().getFirst().text());
                assertEquals(task.answer(), cells.turns().getLast().text());
                assertEquals(cells.turns(), WORLD.outline(Split.VALIDATION, f, i, View.CELLS, TagMode.ONE_D).turns(), "outline");
                // The tags follow the tag mode.
                assertTrue(cells.turns().getFirst().text().contains("<tile_"));
                assertTrue(!WORLD.example(Split.VALIDATION, f, i, View.CELLS, TagMode.NONE).turns().getFirst().text().contains("<tile_"));
            }
        }
        // Text-only families look the same in every view.
        assertEquals(WORLD.example(Split.VALIDATION, Family.TEXT_STRING, 0),
                WORLD.example(Split.VALIDATION, Family.TEXT_STRING, 0, View.CELLS, TagMode.ONE_D));
    }

    @Test
    void theRowsViewWritesEveryRegularTilesCellsInPlaceWithoutTagsOrImageTokens() {
        WorldConfig config = WORLD.config();
        int n = config.cellsPerTile();
        for (Family f : List.of(Family.OCR, Family.COUNTING, Family.SPATIAL, Family.CHART)) {
            for (int i = 0; i < 8; i++) {
                Scene scene = WORLD.task(Split.TRAIN, f, i).scene();
                String[] lines = CellSymbols.rowsText(scene, config).split("\n", -1);
                assertEquals(scene.rows() * n, lines.length, "one line per row of cells");
                int[] classes = scene.cellClasses(config);
                TilePlan plan = CellSymbols.plan(scene, config);
                for (int k = 0; k < plan.tileCount(); k++) {
                    if (plan.isThumbnail(k)) {
                        continue;
                    }
                    char[] tile = CellSymbols.ofTile(scene, config, classes, k);
                    for (int y = 0; y < n; y++) {
                        for (int x = 0; x < n; x++) {
                            assertEquals(tile[y * n + x], lines[plan.row(k) * n + y].charAt(plan.column(k) * n + x),
                                    f.id() + " " + i + ": tile " + k + " cell (" + x + ", " + y + ")");
                        }
                    }
                }
                for (String line : lines) {
                    assertEquals(scene.cols() * n, line.length(), "one symbol per cell");
                }
                Example rows = WORLD.example(Split.TRAIN, f, i, View.ROWS, TagMode.ONE_D);
                String prompt = rows.turns().getFirst().text();
                assertTrue(rows.images().isEmpty() && !prompt.contains("<tile") && !prompt.contains("<Image>"), prompt);
                assertEquals(rows.turns(), WORLD.outline(Split.TRAIN, f, i, View.ROWS, TagMode.ONE_D).turns(), "outline");
            }
        }
        // An OCR board's code stands in one row, left to right.
        Task ocr = WORLD.task(Split.TRAIN, Family.OCR, 0);
        assertTrue(CellSymbols.rowsText(ocr.scene(), config).contains(ocr.answer()), ocr.answer());
    }
}
