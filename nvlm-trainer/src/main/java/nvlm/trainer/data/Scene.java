package nvlm.trainer.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import nvlm.model.tiling.RgbImage;

/**
 * What one synthetic image shows, before it is drawn. An image is {@code cols x rows} tiles of
 * {@code tileSize} pixels, each tile a square of {@code cellsPerTile x cellsPerTile} layout cells,
 * framed by a thin border along the image edges. Three kinds:
 * <ul>
 *   <li>{@link Board}: one item per tile: a large shape (half a tile wide, centred), a short text
 *       code on one row of cells, or nothing;
 *   <li>{@link Scatter}: small shapes, one per cell;
 *   <li>{@link Chart}: a bar chart, one cell column per bar and one cell per unit, letters A, B, ...
 *       under the bars.
 * </ul>
 * Text is drawn one glyph per cell, centred, so each glyph falls inside one image token (2x2 ViT
 * patches after pixel shuffle). By default glyphs are halftone ({@link BitmapFont#drawHalftone}) on
 * a grey plate: legible in the tiles, averaged away in the thumbnail.
 */
public sealed interface Scene permits Scene.Board, Scene.Scatter, Scene.Chart {
    int cols();

    int rows();

    /** A deterministic description that answers every question about the scene (the captioning target). */
    String caption();

    /** Canonical content (everything but glyph jitter): equal keys mean the same picture. */
    String key();

    /** Draws the scene at native resolution: {@code tileSize*cols x tileSize*rows} pixels. */
    RgbImage render(WorldConfig config);

    /** What each layout cell of the whole image shows ({@link CellClass}), row-major over {@code cellsPerTile*cols} columns. */
    int[] cellClasses(WorldConfig config);

    /** A board item: a shape, a text code, or nothing. */
    sealed interface Item permits Figure, Text, Blank {
        String describe();
    }

    record Figure(Shape shape, Colour colour) implements Item {
        @Override
        public String describe() {
            return colour.word() + " " + shape.word();
        }
    }

    /**
     * A code of glyphs on cells {@code (cellX + i, cellY)} of its tile; {@code jitter} holds an
     * (dx, dy) pixel offset per glyph.
     */
    record Text(String code, int cellX, int cellY, int[] jitter) implements Item {
        @Override
        public String describe() {
            return "text " + code;
        }
    }

    record Blank() implements Item {
        @Override
        public String describe() {
            return "empty";
        }
    }

    /** One item per tile, raster order. */
    record Board(int cols, int rows, List<Item> items) implements Scene {
        public Board {
            items = List.copyOf(items);
            if (items.size() != cols * rows) {
                throw new IllegalArgumentException("a " + cols + "x" + rows + " board needs " + cols * rows + " items, got " + items.size());
            }
        }

        /** The text of the board, or null. */
        public Text text() {
            for (Item item : items) {
                if (item instanceof Text t) {
                    return t;
                }
            }
            return null;
        }

        @Override
        public String caption() {
            StringBuilder sb = new StringBuilder("board ").append(cols).append('x').append(rows).append(':');
            for (int i = 0; i < items.size(); i++) {
                sb.append(i == 0 ? " " : ", ").append(items.get(i).describe());
            }
            return sb.toString();
        }

        @Override
        public String key() {
            StringBuilder sb = new StringBuilder(caption());
            for (Item item : items) {
                if (item instanceof Text t) {
                    sb.append(" @").append(t.cellX).append(',').append(t.cellY);
                }
            }
            return sb.toString();
        }

        @Override
        public RgbImage render(WorldConfig config) {
            Canvas canvas = canvas(config, cols, rows);
            int s = config.tileSize();
            for (int k = 0; k < items.size(); k++) {
                int x0 = (k % cols) * s;
                int y0 = (k / cols) * s;
                switch (items.get(k)) {
                    case Figure f -> f.shape.draw(canvas, x0 + s / 4, y0 + s / 4, s / 2, f.colour.rgb());
                    case Text t -> {
                        for (int i = 0; i < t.code.length(); i++) {
                            drawGlyph(canvas, config, t.code.charAt(i), x0 / config.cellSize() + t.cellX + i,
                                    y0 / config.cellSize() + t.cellY, t.jitter[2 * i], t.jitter[2 * i + 1]);
                        }
                    }
                    case Blank b -> {
                    }
                }
            }
            return canvas.toImage();
        }

        @Override
        public int[] cellClasses(WorldConfig config) {
            int n = config.cellsPerTile();
            int width = cols * n;
            int[] classes = new int[width * rows * n];
            int s = config.tileSize();
            int c = config.cellSize();
            int first = (s / 4) / c;
            int last = (s / 4 + s / 2 - 1) / c;
            for (int k = 0; k < items.size(); k++) {
                int cx0 = (k % cols) * n;
                int cy0 = (k / cols) * n;
                switch (items.get(k)) {
                    case Figure f -> {
                        for (int y = first; y <= last; y++) {
                            for (int x = first; x <= last; x++) {
                                classes[(cy0 + y) * width + cx0 + x] = CellClass.shape(f.shape, f.colour);
                            }
                        }
                    }
                    case Text t -> {
                        for (int i = 0; i < t.code.length(); i++) {
                            classes[(cy0 + t.cellY) * width + cx0 + t.cellX + i] = CellClass.glyph(t.code.charAt(i));
                        }
                    }
                    case Blank b -> {
                    }
                }
            }
            return classes;
        }
    }

    /** A small shape in image cell (cellX, cellY). */
    record Placed(Shape shape, Colour colour, int cellX, int cellY) {
    }

    /** Small shapes, each in its own cell. */
    record Scatter(int cols, int rows, List<Placed> shapes) implements Scene {
        public Scatter {
            shapes = List.copyOf(shapes);
        }

        /** How many shapes have {@code colour} (or any colour if null) and {@code shape} (or any shape if null). */
        public int count(Colour colour, Shape shape) {
            int n = 0;
            for (Placed p : shapes) {
                if ((colour == null || p.colour == colour) && (shape == null || p.shape == shape)) {
                    n++;
                }
            }
            return n;
        }

        @Override
        public String caption() {
            Map<Integer, Integer> counts = new TreeMap<>();
            for (Placed p : shapes) {
                counts.merge(p.colour.ordinal() * Shape.values().length + p.shape.ordinal(), 1, Integer::sum);
            }
            StringBuilder sb = new StringBuilder("shapes:");
            String sep = " ";
            for (var e : counts.entrySet()) {
                Colour colour = Colour.values()[e.getKey() / Shape.values().length];
                Shape shape = Shape.values()[e.getKey() % Shape.values().length];
                int n = e.getValue();
                sb.append(sep).append(n).append(' ').append(colour.word()).append(' ').append(n == 1 ? shape.word() : shape.plural());
                sep = ", ";
            }
            return sb.toString();
        }

        @Override
        public String key() {
            List<Placed> sorted = new ArrayList<>(shapes);
            sorted.sort(Comparator.comparingInt(Placed::cellY).thenComparingInt(Placed::cellX));
            StringBuilder sb = new StringBuilder("scatter ").append(cols).append('x').append(rows).append(':');
            for (Placed p : sorted) {
                sb.append(' ').append(p.colour.word()).append(' ').append(p.shape.word()).append('@').append(p.cellX).append(',')
                        .append(p.cellY);
            }
            return sb.toString();
        }

        @Override
        public RgbImage render(WorldConfig config) {
            Canvas canvas = canvas(config, cols, rows);
            int c = config.cellSize();
            int margin = c / 8;
            for (Placed p : shapes) {
                p.shape.draw(canvas, p.cellX * c + margin, p.cellY * c + margin, c - 2 * margin, p.colour.rgb());
            }
            return canvas.toImage();
        }

        @Override
        public int[] cellClasses(WorldConfig config) {
            int width = cols * config.cellsPerTile();
            int[] classes = new int[width * rows * config.cellsPerTile()];
            for (Placed p : shapes) {
                classes[p.cellY * width + p.cellX] = CellClass.shape(p.shape, p.colour);
            }
            return classes;
        }
    }

    /**
     * A bar chart: bar i stands on image cell column {@code firstCellX + 2i}, {@code values[i]}
     * cells tall above the bottom row, which holds its letter ('A' + i).
     */
    record Chart(int cols, int rows, int[] values, Colour colour, int firstCellX, int[] jitter) implements Scene {
        public static String label(int bar) {
            return String.valueOf((char) ('A' + bar));
        }

        /** The bar with the largest value (the world only draws charts with one). */
        public int tallest() {
            int best = 0;
            for (int i = 1; i < values.length; i++) {
                if (values[i] > values[best]) {
                    best = i;
                }
            }
            return best;
        }

        @Override
        public String caption() {
            StringBuilder sb = new StringBuilder("chart:");
            for (int i = 0; i < values.length; i++) {
                sb.append(i == 0 ? " " : ", ").append(label(i)).append(' ').append(values[i]);
            }
            return sb.toString();
        }

        @Override
        public String key() {
            return "chart " + cols + "x" + rows + " " + colour.word() + " @" + firstCellX + " " + Arrays.toString(values);
        }

        @Override
        public RgbImage render(WorldConfig config) {
            Canvas canvas = canvas(config, cols, rows);
            int c = config.cellSize();
            int labelRow = rows * config.cellsPerTile() - 1;
            int margin = c / 8;
            int axisStart = firstCellX * c - c / 4;
            int axisEnd = (firstCellX + 2 * values.length - 1) * c + c / 4;
            canvas.fillRect(axisStart, labelRow * c, axisEnd - axisStart, 2, WorldConfig.FRAME_COLOUR);
            for (int i = 0; i < values.length; i++) {
                int x = (firstCellX + 2 * i) * c;
                canvas.fillRect(x + margin, (labelRow - values[i]) * c, c - 2 * margin, values[i] * c, colour.rgb());
                drawGlyph(canvas, config, label(i).charAt(0), firstCellX + 2 * i, labelRow, jitter[2 * i], jitter[2 * i + 1]);
            }
            return canvas.toImage();
        }

        @Override
        public int[] cellClasses(WorldConfig config) {
            int width = cols * config.cellsPerTile();
            int labelRow = rows * config.cellsPerTile() - 1;
            int[] classes = new int[width * (labelRow + 1)];
            for (int i = 0; i < values.length; i++) {
                int x = firstCellX + 2 * i;
                for (int v = 1; v <= values[i]; v++) {
                    classes[(labelRow - v) * width + x] = CellClass.BAR;
                }
                classes[labelRow * width + x] = CellClass.glyph(label(i).charAt(0));
            }
            return classes;
        }
    }

    /** A white canvas of the scene's size with the frame along its edges. */
    private static Canvas canvas(WorldConfig config, int cols, int rows) {
        Canvas canvas = new Canvas(config.tileSize() * cols, config.tileSize() * rows, WorldConfig.BACKGROUND);
        canvas.frame(WorldConfig.FRAME, WorldConfig.FRAME_COLOUR);
        return canvas;
    }

    /** Offset {x, y} of a glyph inside its cell: centred (the cell is one image token, docs/model.md §3). */
    static int[] glyphOffset(WorldConfig config) {
        int c = config.cellSize();
        return new int[] {(c - BitmapFont.WIDTH * config.glyphScale()) / 2, (c - BitmapFont.HEIGHT * config.glyphScale()) / 2};
    }

    private static void drawGlyph(Canvas canvas, WorldConfig config, char c, int cellX, int cellY, int dx, int dy) {
        int[] o = glyphOffset(config);
        int x = cellX * config.cellSize() + o[0] + dx;
        int y = cellY * config.cellSize() + o[1] + dy;
        if (config.halftone()) {
            BitmapFont.drawHalftone(canvas, c, x, y, config.glyphScale(), WorldConfig.HALFTONE_DARK, WorldConfig.HALFTONE_LIGHT,
                    WorldConfig.PLATE, WorldConfig.PLATE_MARGIN);
        } else {
            BitmapFont.draw(canvas, c, x, y, config.glyphScale(), WorldConfig.INK);
        }
    }
}
