package nvlm.trainer.data;

import java.util.ArrayList;
import java.util.List;
import nvlm.model.config.NvlmConfig;

/**
 * The knobs of the synthetic world. Difficulty goes up with: a longer {@link #ocrAlphabet} or
 * longer codes ({@link #codeMinLength}..{@link #codeMaxLength}), more {@link #colours} and
 * {@link #shapes}, a larger {@link #maxCount} or {@link #maxDistractors}, more bars or a larger
 * {@link #chartMaxValue}, a larger {@link #arithmeticMax}, longer strings, a glyph jitter, and
 * more tiles per image ({@link #maxTiles}). {@link #halftone} text is what makes the thumbnail unable to read the glyphs
 * (the thumbnail shrinks the image by the grid's columns and rows, which averages a halftone
 * pattern into its grey plate); with solid ink, 2-pixel strokes stay legible in 2x-shrunk
 * thumbnails.
 *
 * <p>Images are exactly {@code tileSize*cols x tileSize*rows} pixels, so dynamic tiling (docs/model.md §1)
 * picks the grid {@code cols x rows} and cuts tiles without resampling: each tile is a crop of the
 * drawing, and its cells ({@link #cellSize}) line up with the ViT's pixel-shuffled tokens.
 *
 * @param seed               every sample is a pure function of (seed, split, family, index)
 * @param tileSize           S of the model (112 tiny, 224 small, 448 real)
 * @param cellSize           side of a layout cell in pixels: 2 * patch size, one image token after pixel shuffle
 * @param glyphScale         font pixels per bitmap pixel (glyphs are 5s x 7s, strokes s wide), centred in a cell
 * @param glyphJitter        each glyph moves by up to this many pixels each way
 * @param halftone           draw text in halftone on grey plates (legible in tiles only) rather than solid ink
 * @param ocrAlphabet        characters OCR codes are drawn from
 * @param codeMinLength      shortest OCR code
 * @param codeMaxLength      longest OCR code (at most cells per tile row)
 * @param colours            colours in use, a prefix of {@link Colour} (1..6)
 * @param shapes             shapes in use, a prefix of {@link Shape} (1..4)
 * @param maxCount           counting answers run 1..maxCount
 * @param maxDistractors     shapes outside the counted category: 0..maxDistractors
 * @param chartMinBars       fewest bars in a chart
 * @param chartMaxBars       most bars in a chart (bars are labelled A, B, C, ... left to right)
 * @param chartMaxValue      bar values run 1..chartMaxValue (one cell per unit)
 * @param maxTiles           the most tiles in an image's grid (thumbnail not counted); aspect ratios stay within 1:4..4:1
 * @param arithmeticMax      arithmetic operands run 0..arithmeticMax
 * @param stringAlphabet     letters of the string-manipulation tasks
 * @param stringMinLength    shortest string of a string task
 * @param stringMaxLength    longest string of a string task
 * @param validationFraction share of the content space in the validation split
 * @param testFraction       share of the content space in the test split
 */
public record WorldConfig(long seed, int tileSize, int cellSize, int glyphScale, int glyphJitter, boolean halftone, String ocrAlphabet,
                          int codeMinLength, int codeMaxLength, int colours, int shapes, int maxCount, int maxDistractors,
                          int chartMinBars, int chartMaxBars, int chartMaxValue, int maxTiles, int arithmeticMax,
                          String stringAlphabet, int stringMinLength, int stringMaxLength, double validationFraction,
                          double testFraction) {

    /** Aspect ratios of the world's images stay within 1:4 .. 4:1. */
    public static final int MAX_ASPECT = 4;
    /** Frame drawn along the image border: it tells every tile which image edges it touches. */
    static final int FRAME = 2;
    static final int INK = 0x101010;
    /** Halftone text: ink pixels alternate dark and light on a plate of their mean colour. */
    static final int HALFTONE_DARK = 0x000000;
    static final int HALFTONE_LIGHT = 0xffffff;
    static final int PLATE = 0x808080;
    static final int PLATE_MARGIN = 2;
    static final int FRAME_COLOUR = 0x505050;
    static final int BACKGROUND = 0xffffff;

    public WorldConfig {
        require(tileSize > 0 && cellSize > 0 && tileSize % cellSize == 0,
                "tile size " + tileSize + " must be a positive multiple of the cell size " + cellSize);
        require(cellSize % 2 == 0, "cell size " + cellSize + " must be even (2x2 patches)");
        require(glyphScale >= 1 && glyphJitter >= 0, "glyph scale must be >= 1 and jitter >= 0, got " + glyphScale + ", " + glyphJitter);
        // A glyph, its plate and its jitter stay clear of the frame in a cell at the image edge.
        int glyphBox = BitmapFont.HEIGHT * glyphScale + 2 * (PLATE_MARGIN + glyphJitter + FRAME + 1);
        require(glyphBox <= cellSize, "glyph scale " + glyphScale + " with jitter " + glyphJitter + " needs cells of " + glyphBox
                + "px, cells are " + cellSize + "px");
        require(!ocrAlphabet.isEmpty(), "the OCR alphabet is empty");
        for (char c : ocrAlphabet.toCharArray()) {
            require(BitmapFont.CHARSET.indexOf(c) >= 0, "OCR alphabet character '" + c + "' is not in the font's " + BitmapFont.CHARSET);
        }
        require(codeMinLength >= 1 && codeMaxLength >= codeMinLength && codeMaxLength <= tileSize / cellSize,
                "OCR code length " + codeMinLength + ".." + codeMaxLength + " must fit one tile row of " + tileSize / cellSize + " cells");
        require(colours >= 1 && colours <= Colour.values().length, "colours must be 1.." + Colour.values().length + ", got " + colours);
        require(shapes >= 1 && shapes <= Shape.values().length, "shapes must be 1.." + Shape.values().length + ", got " + shapes);
        require(colours * shapes >= 2, "need at least two distinct shapes (colours x shapes), got " + colours * shapes);
        require(maxCount >= 1 && maxCount <= 9, "max count must be 1..9 (one-digit answers), got " + maxCount);
        require(maxDistractors >= 0, "max distractors must be >= 0, got " + maxDistractors);
        require(maxCount + maxDistractors <= (tileSize / cellSize) * (tileSize / cellSize),
                "counting needs up to " + (maxCount + maxDistractors) + " cells; a one-tile image has " + (tileSize / cellSize) * (tileSize / cellSize));
        require(chartMinBars >= 2 && chartMaxBars >= chartMinBars && chartMaxBars <= 26,
                "chart bars " + chartMinBars + ".." + chartMaxBars + " must be within 2..26");
        require(chartMaxValue >= 2 && chartMaxValue <= 9, "chart max value must be 2..9, got " + chartMaxValue);
        require(maxTiles >= 1, "max tiles must be >= 1, got " + maxTiles);
        require(arithmeticMax >= 1, "arithmetic max must be >= 1, got " + arithmeticMax);
        require(!stringAlphabet.isEmpty() && stringAlphabet.chars().allMatch(c -> c >= 'A' && c <= 'Z'),
                "the string alphabet must be capital letters A-Z, got '" + stringAlphabet + "'");
        require(stringMinLength >= 2 && stringMaxLength >= stringMinLength, "string length " + stringMinLength + ".." + stringMaxLength
                + " must be at least 2");
        require(validationFraction > 0 && testFraction > 0 && validationFraction + testFraction < 1,
                "validation and test fractions must be positive and leave room for training, got " + validationFraction + ", " + testFraction);
        require(!chartGrids(tileSize, cellSize, maxTiles, chartMinBars, chartMaxValue).isEmpty(),
                "no image grid of at most " + maxTiles + " tiles of " + tileSize / cellSize + " cells can hold a chart of "
                        + chartMinBars + " bars up to " + chartMaxValue);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("world config: " + message);
        }
    }

    /** The defaults for a model with {@code tileSize}-pixel tiles (14-pixel patches: cells of 28). */
    public static WorldConfig defaults(int tileSize) {
        return new WorldConfig(1, tileSize, 28, 2, 1, true, "ACEHKLPTXY37", 3, 3, 3, 3, 6, 3, 3, 4, 6, 6, 20,
                "ABCDEFGHKLMNPRST", 3, 4, 0.1, 0.1);
    }

    /**
     * The defaults for a model: its tile size, cells of 2x2 patches (one image token after pixel
     * shuffle, docs/model.md §3) and its {@code max_tiles}, so that dynamic tiling cuts the world's images
     * into exactly the tiles they were drawn on.
     */
    public static WorldConfig forModel(NvlmConfig model, long seed) {
        WorldConfig d = defaults(model.vision().imageSize());
        return new WorldConfig(seed, d.tileSize, 2 * model.vision().patchSize(), d.glyphScale, d.glyphJitter, d.halftone, d.ocrAlphabet,
                d.codeMinLength, d.codeMaxLength, d.colours, d.shapes, d.maxCount, d.maxDistractors, d.chartMinBars, d.chartMaxBars,
                d.chartMaxValue, Math.min(d.maxTiles, model.tiling().maxTiles()), d.arithmeticMax, d.stringAlphabet, d.stringMinLength,
                d.stringMaxLength, d.validationFraction, d.testFraction);
    }

    public WorldConfig withSeed(long s) {
        return new WorldConfig(s, tileSize, cellSize, glyphScale, glyphJitter, halftone, ocrAlphabet, codeMinLength, codeMaxLength, colours,
                shapes, maxCount, maxDistractors, chartMinBars, chartMaxBars, chartMaxValue, maxTiles, arithmeticMax, stringAlphabet,
                stringMinLength, stringMaxLength, validationFraction, testFraction);
    }

    public WorldConfig withGlyphs(int scale, int jitter, boolean ht) {
        return new WorldConfig(seed, tileSize, cellSize, scale, jitter, ht, ocrAlphabet, codeMinLength, codeMaxLength, colours,
                shapes, maxCount, maxDistractors, chartMinBars, chartMaxBars, chartMaxValue, maxTiles, arithmeticMax, stringAlphabet,
                stringMinLength, stringMaxLength, validationFraction, testFraction);
    }

    public WorldConfig withOcr(String alphabet, int minLength, int maxLength) {
        return new WorldConfig(seed, tileSize, cellSize, glyphScale, glyphJitter, halftone, alphabet, minLength, maxLength, colours,
                shapes, maxCount, maxDistractors, chartMinBars, chartMaxBars, chartMaxValue, maxTiles, arithmeticMax, stringAlphabet,
                stringMinLength, stringMaxLength, validationFraction, testFraction);
    }

    public WorldConfig withPalette(int colourCount, int shapeCount) {
        return new WorldConfig(seed, tileSize, cellSize, glyphScale, glyphJitter, halftone, ocrAlphabet, codeMinLength, codeMaxLength,
                colourCount, shapeCount, maxCount, maxDistractors, chartMinBars, chartMaxBars, chartMaxValue, maxTiles, arithmeticMax,
                stringAlphabet, stringMinLength, stringMaxLength, validationFraction, testFraction);
    }

    public WorldConfig withMaxTiles(int tiles) {
        return new WorldConfig(seed, tileSize, cellSize, glyphScale, glyphJitter, halftone, ocrAlphabet, codeMinLength, codeMaxLength, colours,
                shapes, maxCount, maxDistractors, chartMinBars, chartMaxBars, chartMaxValue, tiles, arithmeticMax, stringAlphabet,
                stringMinLength, stringMaxLength, validationFraction, testFraction);
    }

    /** Layout cells along a tile side. */
    public int cellsPerTile() {
        return tileSize / cellSize;
    }

    /** The grids ({cols, rows}) images are drawn on: at most {@link #maxTiles} tiles, aspect within 1:4..4:1. */
    public List<int[]> grids() {
        return grids(maxTiles);
    }

    static List<int[]> grids(int maxTiles) {
        List<int[]> out = new ArrayList<>();
        for (int tiles = 1; tiles <= maxTiles; tiles++) {
            for (int cols = 1; cols <= tiles; cols++) {
                int rows = tiles / cols;
                if (cols * rows == tiles && Math.max(cols, rows) <= MAX_ASPECT * Math.min(cols, rows)) {
                    out.add(new int[] {cols, rows});
                }
            }
        }
        return out;
    }

    /** Grids whose tiles name unambiguously as top/middle/bottom and left/middle/right: at least 2 tiles, at most 3 per side. */
    public List<int[]> spatialGrids() {
        return grids().stream().filter(g -> g[0] * g[1] >= 2 && g[0] <= 3 && g[1] <= 3).toList();
    }

    /** Grids with room for a chart: values 1..chartMaxValue plus a label row and an empty top row, and the fewest bars. */
    public List<int[]> chartGrids() {
        return chartGrids(tileSize, cellSize, maxTiles, chartMinBars, chartMaxValue);
    }

    private static List<int[]> chartGrids(int tileSize, int cellSize, int maxTiles, int minBars, int maxValue) {
        int n = tileSize / cellSize;
        return grids(maxTiles).stream().filter(g -> g[1] * n >= maxValue + 2 && g[0] * n >= 2 * minBars - 1).toList();
    }
}
