package nvlm.trainer.data;

import java.util.HashMap;
import java.util.Map;

/**
 * A 5x7 bitmap font kept in the code (the classic character-LCD shapes), so the synthetic world
 * draws identical text on every machine without system fonts. Covers A-Z, 0-9, space and
 * {@code . , : ? ! - + = /}. A glyph drawn at integer scale {@code s} is {@code 5s x 7s} pixels
 * with strokes {@code s} pixels wide.
 */
public final class BitmapFont {
    public static final int WIDTH = 5;
    public static final int HEIGHT = 7;
    /** Every character the font draws, in glyph-class order (see {@link CellClass#glyph}). */
    public static final String CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    public static final String PUNCTUATION = " .,:?!-+=/";

    private static final Map<Character, boolean[]> GLYPHS = new HashMap<>();

    private BitmapFont() {
    }

    private static void define(char c, String... rows) {
        if (rows.length != HEIGHT) {
            throw new AssertionError("glyph '" + c + "' has " + rows.length + " rows");
        }
        boolean[] bits = new boolean[WIDTH * HEIGHT];
        for (int y = 0; y < HEIGHT; y++) {
            if (rows[y].length() != WIDTH) {
                throw new AssertionError("glyph '" + c + "' row " + y + " is " + rows[y].length() + " wide");
            }
            for (int x = 0; x < WIDTH; x++) {
                bits[y * WIDTH + x] = rows[y].charAt(x) == '#';
            }
        }
        GLYPHS.put(c, bits);
    }

    /** Whether {@code c} has a glyph. */
    public static boolean has(char c) {
        return GLYPHS.containsKey(c);
    }

    /** Whether pixel (x, y) of {@code c}'s 5x7 glyph is ink. */
    public static boolean ink(char c, int x, int y) {
        return glyph(c)[y * WIDTH + x];
    }

    private static boolean[] glyph(char c) {
        boolean[] g = GLYPHS.get(c);
        if (g == null) {
            throw new IllegalArgumentException("the bitmap font has no glyph for '" + c + "' (U+"
                    + String.format("%04X", (int) c) + "); it draws " + CHARSET + " and '" + PUNCTUATION + "'");
        }
        return g;
    }

    /** Draws {@code c} with its top-left corner at (x, y), each font pixel a {@code scale x scale} square. */
    public static void draw(Canvas canvas, char c, int x, int y, int scale, int rgb) {
        boolean[] g = glyph(c);
        for (int gy = 0; gy < HEIGHT; gy++) {
            for (int gx = 0; gx < WIDTH; gx++) {
                if (g[gy * WIDTH + gx]) {
                    canvas.fillRect(x + gx * scale, y + gy * scale, scale, scale, rgb);
                }
            }
        }
    }

    /**
     * Draws {@code c} in halftone: each ink pixel is {@code dark} or {@code light} in the
     * canvas-wide checkerboard (by the parity of x + y, so a glyph moved by a pixel keeps the
     * texture phase the ViT's patches see), on a {@code plate} of
     * {@code plateMargin} pixels around the glyph. With {@code plate} the mean of dark and light,
     * the glyph has almost no energy below the checkerboard's frequency (the Nyquist frequency of
     * the drawing), so any downscale of 2x or more (the thumbnail) averages it into the plate,
     * while the native-resolution tiles show every pixel.
     */
    public static void drawHalftone(Canvas canvas, char c, int x, int y, int scale, int dark, int light, int plate, int plateMargin) {
        boolean[] g = glyph(c);
        canvas.fillRect(x - plateMargin, y - plateMargin, WIDTH * scale + 2 * plateMargin, HEIGHT * scale + 2 * plateMargin, plate);
        for (int py = 0; py < HEIGHT * scale; py++) {
            for (int px = 0; px < WIDTH * scale; px++) {
                if (g[(py / scale) * WIDTH + px / scale]) {
                    canvas.set(x + px, y + py, ((x + px + y + py) & 1) == 0 ? dark : light);
                }
            }
        }
    }

    /** Draws {@code text} on one line, glyphs {@code advance} pixels apart. */
    public static void drawString(Canvas canvas, String text, int x, int y, int scale, int advance, int rgb) {
        for (int i = 0; i < text.length(); i++) {
            draw(canvas, text.charAt(i), x + i * advance, y, scale, rgb);
        }
    }

    static {
        define('A', ".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#");
        define('B', "####.", "#...#", "#...#", "####.", "#...#", "#...#", "####.");
        define('C', ".###.", "#...#", "#....", "#....", "#....", "#...#", ".###.");
        define('D', "###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###..");
        define('E', "#####", "#....", "#....", "####.", "#....", "#....", "#####");
        define('F', "#####", "#....", "#....", "####.", "#....", "#....", "#....");
        define('G', ".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####");
        define('H', "#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#");
        define('I', ".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###.");
        define('J', "..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##..");
        define('K', "#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#");
        define('L', "#....", "#....", "#....", "#....", "#....", "#....", "#####");
        define('M', "#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#");
        define('N', "#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#");
        define('O', ".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###.");
        define('P', "####.", "#...#", "#...#", "####.", "#....", "#....", "#....");
        define('Q', ".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#");
        define('R', "####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#");
        define('S', ".####", "#....", "#....", ".###.", "....#", "....#", "####.");
        define('T', "#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#..");
        define('U', "#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###.");
        define('V', "#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#..");
        define('W', "#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#.");
        define('X', "#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#");
        define('Y', "#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#..");
        define('Z', "#####", "....#", "...#.", "..#..", ".#...", "#....", "#####");
        define('0', ".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###.");
        define('1', "..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###.");
        define('2', ".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####");
        define('3', "#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###.");
        define('4', "...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#.");
        define('5', "#####", "#....", "####.", "....#", "....#", "#...#", ".###.");
        define('6', "..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###.");
        define('7', "#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#...");
        define('8', ".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###.");
        define('9', ".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##..");
        define(' ', ".....", ".....", ".....", ".....", ".....", ".....", ".....");
        define('.', ".....", ".....", ".....", ".....", ".....", ".##..", ".##..");
        define(',', ".....", ".....", ".....", ".....", ".##..", "..#..", ".#...");
        define(':', ".....", ".##..", ".##..", ".....", ".##..", ".##..", ".....");
        define('?', ".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#..");
        define('!', "..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#..");
        define('-', ".....", ".....", ".....", "#####", ".....", ".....", ".....");
        define('+', ".....", "..#..", "..#..", "#####", "..#..", "..#..", ".....");
        define('=', ".....", ".....", "#####", ".....", "#####", ".....", ".....");
        define('/', ".....", "....#", "...#.", "..#..", ".#...", "#....", ".....");
    }
}
