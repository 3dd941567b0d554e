package nvlm.trainer.data;

import nvlm.tensor.F;

/**
 * The classes of the stage-0 vision targets ({@link VisionExample}): what each cell of a tile
 * shows. A cell is {@code cellSize x cellSize} pixels of the tile (28 by default: 2x2 patches of
 * 14 pixels, exactly the area of one image token after pixel shuffle, docs/model.md §3), so the classes
 * line up with the ViT's output tokens.
 * <pre>
 *   0          empty (background, frame, chart axis)
 *   1 .. 36    a glyph of {@link BitmapFont#CHARSET} (A-Z, 0-9)
 *   37 .. 60   a shape: 37 + shape.ordinal() * 6 + colour.ordinal()
 *   61         a chart bar
 *   -100       no target ({@link F#IGNORE_INDEX}; thumbnail tiles: a cell there mixes several cells of the image)
 * </pre>
 */
public final class CellClass {
    public static final int EMPTY = 0;
    public static final int FIRST_GLYPH = 1;
    public static final int FIRST_SHAPE = FIRST_GLYPH + BitmapFont.CHARSET.length();
    public static final int BAR = FIRST_SHAPE + Shape.values().length * Colour.values().length;
    /** Number of classes (the width of a classification head). */
    public static final int COUNT = BAR + 1;

    private CellClass() {
    }

    public static int glyph(char c) {
        int i = BitmapFont.CHARSET.indexOf(c);
        if (i < 0) {
            throw new IllegalArgumentException("no cell class for glyph '" + c + "': classes cover " + BitmapFont.CHARSET);
        }
        return FIRST_GLYPH + i;
    }

    public static int shape(Shape shape, Colour colour) {
        return FIRST_SHAPE + shape.ordinal() * Colour.values().length + colour.ordinal();
    }

    /** A readable name of a class, for reports: "empty", "glyph K", "red circle", "bar". */
    public static String name(int cls) {
        if (cls == EMPTY) {
            return "empty";
        }
        if (cls >= FIRST_GLYPH && cls < FIRST_SHAPE) {
            return "glyph " + BitmapFont.CHARSET.charAt(cls - FIRST_GLYPH);
        }
        if (cls >= FIRST_SHAPE && cls < BAR) {
            int k = cls - FIRST_SHAPE;
            return Colour.values()[k % Colour.values().length].word() + " " + Shape.values()[k / Colour.values().length].word();
        }
        if (cls == BAR) {
            return "bar";
        }
        if (cls == F.IGNORE_INDEX) {
            return "ignore";
        }
        throw new IllegalArgumentException("no cell class " + cls + " (classes are 0.." + (COUNT - 1) + " and " + F.IGNORE_INDEX + ")");
    }
}
