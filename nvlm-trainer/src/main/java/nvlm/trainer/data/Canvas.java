package nvlm.trainer.data;

import java.util.Arrays;
import nvlm.model.tiling.RgbImage;

/**
 * A mutable 8-bit RGB raster the synthetic world draws on. Shapes are filled by testing pixel
 * centres, with no antialiasing, so the same scene gives the same bytes everywhere. Drawing is
 * clipped to the canvas.
 */
public final class Canvas {
    private final int width;
    private final int height;
    private final byte[] rgb;

    public Canvas(int width, int height, int background) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("canvas size must be positive, got " + width + "x" + height);
        }
        this.width = width;
        this.height = height;
        this.rgb = new byte[Math.multiplyExact(Math.multiplyExact(width, height), 3)];
        if (background == 0xffffff) {
            Arrays.fill(rgb, (byte) 0xff);
        } else {
            fillRect(0, 0, width, height, background);
        }
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    public void set(int x, int y, int color) {
        if (x < 0 || y < 0 || x >= width || y >= height) {
            return;
        }
        int i = (y * width + x) * 3;
        rgb[i] = (byte) (color >> 16);
        rgb[i + 1] = (byte) (color >> 8);
        rgb[i + 2] = (byte) color;
    }

    public void fillRect(int x, int y, int w, int h, int color) {
        int x0 = Math.max(0, x);
        int y0 = Math.max(0, y);
        int x1 = Math.min(width, x + w);
        int y1 = Math.min(height, y + h);
        byte r = (byte) (color >> 16);
        byte g = (byte) (color >> 8);
        byte b = (byte) color;
        for (int yy = y0; yy < y1; yy++) {
            int i = (yy * width + x0) * 3;
            for (int xx = x0; xx < x1; xx++, i += 3) {
                rgb[i] = r;
                rgb[i + 1] = g;
                rgb[i + 2] = b;
            }
        }
    }

    /** A disc inscribed in the {@code size x size} box at (x, y). */
    public void fillCircle(int x, int y, int size, int color) {
        double c = size / 2.0;
        double r2 = c * c;
        for (int yy = 0; yy < size; yy++) {
            for (int xx = 0; xx < size; xx++) {
                double dx = xx + 0.5 - c;
                double dy = yy + 0.5 - c;
                if (dx * dx + dy * dy <= r2) {
                    set(x + xx, y + yy, color);
                }
            }
        }
    }

    /** An upward triangle filling the {@code size x size} box at (x, y): apex at the top centre, base along the bottom. */
    public void fillTriangle(int x, int y, int size, int color) {
        for (int yy = 0; yy < size; yy++) {
            double half = (yy + 0.5) / size * size / 2.0;
            for (int xx = 0; xx < size; xx++) {
                if (Math.abs(xx + 0.5 - size / 2.0) <= half) {
                    set(x + xx, y + yy, color);
                }
            }
        }
    }

    /** A border {@code thickness} pixels wide along the canvas edges. */
    public void frame(int thickness, int color) {
        fillRect(0, 0, width, thickness, color);
        fillRect(0, height - thickness, width, thickness, color);
        fillRect(0, 0, thickness, height, color);
        fillRect(width - thickness, 0, thickness, height, color);
    }

    /** The drawing as an image (the canvas must not be drawn on afterwards: the bytes are shared). */
    public RgbImage toImage() {
        return new RgbImage(width, height, rgb);
    }
}
