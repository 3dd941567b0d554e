package nvlm.model.tiling;

import java.awt.image.BufferedImage;

/**
 * An 8-bit RGB image, row-major, 3 interleaved bytes per pixel (the form InternVL works on after
 * {@code Image.convert("RGB")}).
 */
public record RgbImage(int width, int height, byte[] rgb) {
    public RgbImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (rgb.length != (long) width * height * 3) {
            throw new IllegalArgumentException("a " + width + "x" + height + " RGB image needs " + (long) width * height * 3
                    + " bytes, got " + rgb.length);
        }
    }

    /** Red, green or blue ({@code channel} 0, 1, 2) at (x, y), 0..255. */
    public int get(int x, int y, int channel) {
        return rgb[(y * width + x) * 3 + channel] & 0xff;
    }

    /** Packed {@code 0xRRGGBB} at (x, y). */
    public int rgbAt(int x, int y) {
        int i = (y * width + x) * 3;
        return (rgb[i] & 0xff) << 16 | (rgb[i + 1] & 0xff) << 8 | (rgb[i + 2] & 0xff);
    }

    /** A copy as a {@link BufferedImage#TYPE_INT_RGB} image (for drawing and writing). */
    public BufferedImage toBufferedImage() {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[width];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                row[x] = rgbAt(x, y);
            }
            image.setRGB(0, y, width, 1, row, 0, width);
        }
        return image;
    }
}
