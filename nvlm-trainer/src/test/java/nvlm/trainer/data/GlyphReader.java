package nvlm.trainer.data;

import nvlm.model.tiling.RgbImage;

/**
 * A template-matching reader for tests: reads a board's code back from the drawn pixels by
 * comparing each text cell with every glyph of the OCR alphabet at every jitter offset. It knows
 * where the text is (the board's text cell) but not what it says.
 */
final class GlyphReader {
    private GlyphReader() {
    }

    static String read(RgbImage image, WorldConfig config, Scene.Board board) {
        int k = board.items().indexOf(board.text());
        Scene.Text text = board.text();
        int n = config.cellsPerTile();
        int cellY = (k / board.cols()) * n + text.cellY();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.code().length(); i++) {
            int cellX = (k % board.cols()) * n + text.cellX() + i;
            out.append(readCell(image, config, cellX, cellY));
        }
        return out.toString();
    }

    static char readCell(RgbImage image, WorldConfig config, int cellX, int cellY) {
        int c = config.cellSize();
        int j = config.glyphJitter();
        char best = '?';
        long bestCost = Long.MAX_VALUE;
        for (char ch : config.ocrAlphabet().toCharArray()) {
            for (int dx = -j; dx <= j; dx++) {
                for (int dy = -j; dy <= j; dy++) {
                    Canvas canvas = new Canvas(c, c, WorldConfig.BACKGROUND);
                    int[] o = Scene.glyphOffset(config);
                    if (config.halftone()) {
                        BitmapFont.drawHalftone(canvas, ch, o[0] + dx, o[1] + dy, config.glyphScale(), WorldConfig.HALFTONE_DARK,
                                WorldConfig.HALFTONE_LIGHT, WorldConfig.PLATE, WorldConfig.PLATE_MARGIN);
                    } else {
                        BitmapFont.draw(canvas, ch, o[0] + dx, o[1] + dy, config.glyphScale(), WorldConfig.INK);
                    }
                    RgbImage template = canvas.toImage();
                    long cost = 0;
                    // The frame may cross an edge cell; compare away from the cell border.
                    for (int y = 3; y < c - 3; y++) {
                        for (int x = 3; x < c - 3; x++) {
                            int d = image.get(cellX * c + x, cellY * c + y, 0) - template.get(x, y, 0);
                            cost += (long) d * d;
                        }
                    }
                    if (cost < bestCost) {
                        bestCost = cost;
                        best = ch;
                    }
                }
            }
        }
        return best;
    }
}
