package nvlm.model.tiling;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Reads PNG, JPEG, BMP and GIF files (whatever ImageIO reads) into 8-bit {@link RgbImage}s, the
 * equivalent of InternVL's {@code Image.open(f).convert("RGB")}:
 * <ul>
 *   <li>alpha is dropped, not composited (PIL's RGBA -> RGB conversion keeps the colour channels);
 *   <li>grayscale is replicated into R, G and B from the raw samples (ImageIO's {@code getRGB}
 *       would treat 8-bit gray as linear and brighten it; PIL does not);
 *   <li>palette images go through their palette; 16-bit (and 1/2/4-bit) samples are rescaled to
 *       8 bits with rounding ({@code v * 255 / (2^bits - 1)});
 *   <li>anything else (e.g. a non-sRGB colour space) goes through ImageIO's colour conversion.
 * </ul>
 * The pixel count is checked from the header before any pixel is decoded, so a file claiming
 * 100000 x 100000 pixels is rejected without allocating them. Only the first image of a
 * multi-image file (animated GIF) is read. Truncated or corrupt data, including the JPEG reader's
 * "premature end" warnings, is an error rather than a partly grey image.
 */
public final class ImageLoader {
    /** Pillow's default {@code Image.MAX_IMAGE_PIXELS} (its decompression-bomb threshold). */
    public static final long DEFAULT_MAX_PIXELS = 89_478_485L;

    private final long maxPixels;

    public ImageLoader(long maxPixels) {
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("maxPixels must be positive, got " + maxPixels);
        }
        this.maxPixels = maxPixels;
    }

    public ImageLoader() {
        this(DEFAULT_MAX_PIXELS);
    }

    public long maxPixels() {
        return maxPixels;
    }

    /** The size from the header only: {@code {width, height}}. */
    public int[] readSize(Path file) throws IOException {
        try (ImageInputStream in = open(file)) {
            ImageReader reader = reader(file, in);
            try {
                return header(file, reader);
            } finally {
                reader.dispose();
            }
        }
    }

    /** Reads and converts the image; see the class comment for the conversions. */
    public RgbImage load(Path file) throws IOException {
        return load(open(file), file);
    }

    /**
     * Decodes an image held in memory (an upload, a data: URL); {@code name} says where it came
     * from in errors. The same checks and conversions as {@link #load(Path)}.
     */
    public RgbImage load(byte[] data, String name) throws IOException {
        ImageInputStream in = ImageIO.createImageInputStream(new java.io.ByteArrayInputStream(data));
        if (in == null) {
            throw new IOException(name + ": cannot read image bytes");
        }
        return load(in, name);
    }

    private RgbImage load(ImageInputStream stream, Object file) throws IOException {
        try (ImageInputStream in = stream) {
            ImageReader reader = reader(file, in);
            try {
                int[] size = header(file, reader);
                requireHeapFor(file, size[0], size[1]);
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                BufferedImage image;
                try {
                    image = reader.read(0);
                } catch (IOException | RuntimeException e) {
                    throw new ImageFormatException(file + ": corrupt or truncated " + reader.getFormatName()
                            + " image (" + messages(e) + ")", e);
                }
                if (!warnings.isEmpty()) {
                    throw new ImageFormatException(file + ": corrupt or truncated " + reader.getFormatName()
                            + " image (" + String.join("; ", warnings) + ")", null);
                }
                return toRgb(image);
            } finally {
                reader.dispose();
            }
        }
    }

    private static ImageInputStream open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such image file");
        }
        ImageInputStream in = ImageIO.createImageInputStream(file.toFile());
        if (in == null) {
            throw new IOException(file + ": cannot open image file");
        }
        return in;
    }

    private static ImageReader reader(Object file, ImageInputStream in) throws IOException {
        Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
        if (!readers.hasNext()) {
            in.close();
            throw new ImageFormatException(file + ": not a supported image format (PNG, JPEG, BMP, GIF)", null);
        }
        ImageReader reader = readers.next();
        reader.setInput(in, true, true);
        return reader;
    }

    private static void requireHeapFor(Object file, int width, int height) throws ImageFormatException {
        long pixels = (long) width * height;
        // Decoding holds the decoded raster (up to 4 bytes a pixel) and its RGB copy (3): a 240 KB
        // PNG of 89 M pixels needs 600 MB. Refused before decoding when that is over half the heap.
        long need = pixels * 7;
        long heap = Runtime.getRuntime().maxMemory();
        if (need > heap / 2) {
            throw new ImageFormatException(file + ": decoding this " + width + "x" + height + " image needs about " + (need >> 20)
                    + " MiB of heap, more than half of the " + (heap >> 20) + " MiB this process has (raise NVLM_HEAP)", null);
        }
    }

    private int[] header(Object file, ImageReader reader) throws IOException {
        int width;
        int height;
        try {
            width = reader.getWidth(0);
            height = reader.getHeight(0);
        } catch (IOException | RuntimeException e) {
            throw new ImageFormatException(file + ": unreadable " + formatName(reader) + " header (" + messages(e) + ")", e);
        }
        if (width <= 0 || height <= 0) {
            throw new ImageFormatException(file + ": image has zero size (" + width + "x" + height + ")", null);
        }
        long pixels = (long) width * height;
        if (pixels > maxPixels) {
            throw new ImageFormatException(file + ": image is " + width + "x" + height + " = " + pixels
                    + " pixels, more than the limit of " + maxPixels, null);
        }
        return new int[] {width, height};
    }

    /** The messages of an exception and its causes: ImageIO hides the real problem ("Image width <= 0!") in a cause. */
    private static String messages(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            if (sb.indexOf(m) < 0) {
                sb.append(sb.isEmpty() ? "" : ": ").append(m);
            }
        }
        return sb.toString();
    }

    private static String formatName(ImageReader reader) {
        try {
            return reader.getFormatName();
        } catch (IOException e) {
            return "image";
        }
    }

    /** Converts any decoded image to 8-bit RGB, dropping alpha (see the class comment). */
    static RgbImage toRgb(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] rgb = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        ColorSpace cs = cm.getColorSpace();
        boolean component = cm instanceof ComponentColorModel;
        if (component && cs.getType() == ColorSpace.TYPE_GRAY) {
            int max = (1 << cm.getComponentSize(0)) - 1;
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    byte v = (byte) scale(row[x], max);
                    int d = (y * w + x) * 3;
                    rgb[d] = v;
                    rgb[d + 1] = v;
                    rgb[d + 2] = v;
                }
            }
        } else if (component && cs.isCS_sRGB() && cm.getNumColorComponents() == 3) {
            int[] row = new int[w];
            for (int c = 0; c < 3; c++) {
                int max = (1 << cm.getComponentSize(c)) - 1;
                for (int y = 0; y < h; y++) {
                    raster.getSamples(0, y, w, 1, c, row);
                    for (int x = 0; x < w; x++) {
                        rgb[(y * w + x) * 3 + c] = (byte) scale(row[x], max);
                    }
                }
            }
        } else {
            // Palette and packed sRGB: getRGB is an exact lookup/unpack. Other colour spaces: ImageIO's conversion.
            copyArgb(image, rgb);
        }
        return new RgbImage(w, h, rgb);
    }

    private static void copyArgb(BufferedImage image, byte[] rgb) {
        int w = image.getWidth();
        int[] row = new int[w];
        for (int y = 0; y < image.getHeight(); y++) {
            image.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int d = (y * w + x) * 3;
                rgb[d] = (byte) (row[x] >> 16);
                rgb[d + 1] = (byte) (row[x] >> 8);
                rgb[d + 2] = (byte) row[x];
            }
        }
    }

    private static int scale(int v, int max) {
        return max == 255 ? v : (int) ((v * 255L + max / 2) / max);
    }

    /** An image file that cannot be used: unsupported, corrupt, truncated, empty or too large. */
    public static final class ImageFormatException extends IOException {
        ImageFormatException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
