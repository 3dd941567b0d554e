package nvlm.trainer.data;

import java.util.List;
import nvlm.model.prompt.ChatTemplate;
import nvlm.model.tiling.TagMode;
import nvlm.model.tiling.TilePlan;

/**
 * One printable character per layout cell of a picture, in the pixel-shuffled token order of each
 * tile (row-major, docs/model.md §3): what each image token shows.
 * <ul>
 *   <li>the vision encoder learns in stage 0 to tell the symbol of every cell from pixels
 *       ({@link #ofTile}, the classes of its throwaway head);</li>
 *   <li>"Transcribe tile k." asks for a tile's symbols in stages 1 and 2
 *       ({@link SyntheticWorld#transcription}): a dense target for every image token.</li>
 * </ul>
 * {@link #imageText} writes a whole picture this way in NVLM-D's token layout (tags, tiles,
 * thumbnail), for tests and for looking at what a picture holds; no training data uses it.
 *
 * <pre>
 *   A-Z 0-9      a glyph (the character itself)
 *   a .. x       a shape: 'a' + shape.ordinal() * 6 + colour.ordinal() ('a' red circle, 'b' green circle, ...)
 *   #            a chart bar
 *   . ^ _ { }    an empty cell; away from the frame, or on the image's top, bottom, left or right edge
 *   ( ) [ ]      an empty corner cell: top left, top right, bottom left, bottom right
 *   ?            a thumbnail cell (no target: a thumbnail cell mixes several cells of the image)
 * </pre>
 * The frame the world draws along the image edges ({@link WorldConfig#FRAME}) is what an empty
 * cell's symbol records; it is how "top left" is told from "bottom right" (a tile alone cannot
 * know where in the grid it is otherwise).
 */
public final class CellSymbols {
    /** Empty cells by the image edges they touch (see the class comment). */
    private static final String EMPTY = ".^_{}()[]";
    private static final String GLYPHS = BitmapFont.CHARSET;
    private static final int SHAPE_SYMBOLS = Shape.values().length * Colour.values().length;
    public static final char BAR = '#';
    public static final char THUMBNAIL = '?';
    /** Every symbol a cell of a regular tile can have; the index is the class of the vision head. */
    public static final String ALPHABET = EMPTY + GLYPHS + shapeSymbols() + BAR;
    /** Classes of the vision encoder's stage-0 head. */
    public static final int COUNT = ALPHABET.length();

    private CellSymbols() {
    }

    private static String shapeSymbols() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < SHAPE_SYMBOLS; i++) {
            sb.append((char) ('a' + i));
        }
        return sb.toString();
    }

    /**
     * The symbol of a cell showing {@link CellClass} {@code cellClass}, which touches the image's
     * top, bottom, left or right edge as given (only empty cells record the edges).
     */
    public static char symbol(int cellClass, boolean top, boolean bottom, boolean left, boolean right) {
        if (cellClass == CellClass.EMPTY) {
            if (top) {
                return left ? '(' : right ? ')' : '^';
            }
            if (bottom) {
                return left ? '[' : right ? ']' : '_';
            }
            return left ? '{' : right ? '}' : '.';
        }
        if (cellClass >= CellClass.FIRST_GLYPH && cellClass < CellClass.FIRST_SHAPE) {
            return GLYPHS.charAt(cellClass - CellClass.FIRST_GLYPH);
        }
        if (cellClass >= CellClass.FIRST_SHAPE && cellClass < CellClass.BAR) {
            return (char) ('a' + cellClass - CellClass.FIRST_SHAPE);
        }
        if (cellClass == CellClass.BAR) {
            return BAR;
        }
        throw new IllegalArgumentException("no cell symbol for cell class " + cellClass + " (" + CellClass.name(cellClass) + ")");
    }

    /** Whether every symbol of {@code cells} is an empty cell's. */
    public static boolean isEmpty(char[] cells) {
        for (char c : cells) {
            if (EMPTY.indexOf(c) < 0) {
                return false;
            }
        }
        return true;
    }

    /** Whether some symbol of {@code cells} is a glyph's. */
    public static boolean hasGlyph(char[] cells) {
        for (char c : cells) {
            if (GLYPHS.indexOf(c) >= 0) {
                return true;
            }
        }
        return false;
    }

    /** The head class of a symbol (its index in {@link #ALPHABET}). */
    public static int classOf(char symbol) {
        int i = ALPHABET.indexOf(symbol);
        if (i < 0) {
            throw new IllegalArgumentException("'" + symbol + "' is not a cell symbol (symbols: " + ALPHABET + ")");
        }
        return i;
    }

    /** The tiling of a world scene: its own grid, a thumbnail when there is more than one tile (docs/model.md §1). */
    public static TilePlan plan(Scene scene, WorldConfig config) {
        int s = config.tileSize();
        return new TilePlan(scene.cols() * s, scene.rows() * s, s, scene.cols(), scene.rows(), scene.cols() * scene.rows() > 1);
    }

    /**
     * The symbols of tile {@code k} (prompt order) of {@code scene}, {@code cellsPerTile^2} of
     * them in token order; all {@link #THUMBNAIL} for the thumbnail.
     *
     * @param imageClasses {@code scene.cellClasses(config)} (passed in so a caller tiling a whole
     *                     image computes it once)
     */
    public static char[] ofTile(Scene scene, WorldConfig config, int[] imageClasses, int k) {
        TilePlan plan = plan(scene, config);
        int n = config.cellsPerTile();
        char[] out = new char[n * n];
        if (plan.isThumbnail(k)) {
            java.util.Arrays.fill(out, THUMBNAIL);
            return out;
        }
        int width = scene.cols() * n;
        int height = scene.rows() * n;
        int x0 = plan.column(k) * n;
        int y0 = plan.row(k) * n;
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                int ix = x0 + x;
                int iy = y0 + y;
                out[y * n + x] = symbol(imageClasses[iy * width + ix], iy == 0, iy == height - 1, ix == 0, ix == width - 1);
            }
        }
        return out;
    }

    /**
     * The whole picture as text, one line per row of cells, top row first, one symbol per cell
     * (the {@link View#ROWS} view): what the picture holds, in no architecture's token layout.
     */
    public static String rowsText(Scene scene, WorldConfig config) {
        int[] classes = scene.cellClasses(config);
        int width = scene.cols() * config.cellsPerTile();
        int height = scene.rows() * config.cellsPerTile();
        StringBuilder sb = new StringBuilder(height * (width + 1));
        for (int y = 0; y < height; y++) {
            if (y > 0) {
                sb.append('\n');
            }
            for (int x = 0; x < width; x++) {
                sb.append(symbol(classes[y * width + x], y == 0, y == height - 1, x == 0, x == width - 1));
            }
        }
        return sb.toString();
    }

    /**
     * The cells view of {@code scene} as prompt text: {@code <Image>}, each tile's tag
     * ({@code tagMode}) and symbols, {@code </Image>}; the same token layout as NVLM-D's image.
     */
    public static String imageText(Scene scene, WorldConfig config, TagMode tagMode) {
        TilePlan plan = plan(scene, config);
        int[] classes = scene.cellClasses(config);
        List<String> tags = tagMode.tags(plan);
        StringBuilder sb = new StringBuilder(ChatTemplate.IMAGE_START);
        for (int k = 0; k < plan.tileCount(); k++) {
            sb.append(tags.get(k)).append(ofTile(scene, config, classes, k));
        }
        return sb.append(ChatTemplate.IMAGE_END).toString();
    }
}
