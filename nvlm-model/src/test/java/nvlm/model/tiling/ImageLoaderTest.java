package nvlm.model.tiling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageLoaderTest {
    @TempDir
    Path dir;

    private final ImageLoader loader = new ImageLoader();

    @Test
    void rgbFormatsRoundTripExactlyThroughLosslessFiles() throws IOException {
        BufferedImage source = randomRgb(23, 17, 7);
        for (String format : new String[] {"png", "bmp"}) {
            Path file = write(source, format);
            RgbImage image = loader.load(file);
            assertEquals(23, image.width());
            assertEquals(17, image.height());
            for (int y = 0; y < 17; y++) {
                for (int x = 0; x < 23; x++) {
                    assertEquals(source.getRGB(x, y) & 0xffffff, image.rgbAt(x, y), format + " at " + x + "," + y);
                }
            }
        }
    }

    @Test
    void jpegDecodesCloseToTheSource() throws IOException {
        BufferedImage source = new BufferedImage(32, 16, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 32; x++) {
                source.setRGB(x, y, (x * 8) << 16 | (y * 16) << 8 | 128);
            }
        }
        RgbImage image = loader.load(write(source, "jpg"));
        int maxDiff = 0;
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 32; x++) {
                for (int c = 0; c < 3; c++) {
                    maxDiff = Math.max(maxDiff, Math.abs(((source.getRGB(x, y) >> (16 - 8 * c)) & 0xff) - image.get(x, y, c)));
                }
            }
        }
        assertTrue(maxDiff < 24, "JPEG of a smooth gradient differs by " + maxDiff + " levels"); // lossy codec
    }

    @Test
    void grayIsReplicatedFromRawSamplesWithoutGamma() throws IOException {
        BufferedImage gray = new BufferedImage(16, 2, BufferedImage.TYPE_BYTE_GRAY);
        for (int x = 0; x < 16; x++) {
            gray.getRaster().setSample(x, 0, 0, x * 16);
            gray.getRaster().setSample(x, 1, 0, 255 - x);
        }
        RgbImage image = loader.load(write(gray, "png"));
        for (int x = 0; x < 16; x++) {
            assertEquals(x * 16, image.get(x, 0, 0));
            assertEquals(x * 16, image.get(x, 0, 1));
            assertEquals(x * 16, image.get(x, 0, 2));
            assertEquals(255 - x, image.get(x, 1, 1));
        }
    }

    @Test
    void sixteenBitGrayAndRgbAreRescaledWithRounding() throws IOException {
        BufferedImage gray = new BufferedImage(4, 1, BufferedImage.TYPE_USHORT_GRAY);
        int[] values = {0, 128, 32896, 65535}; // 128/257 = 0.498 -> 0; 32896/257 = 128
        for (int x = 0; x < 4; x++) {
            gray.getRaster().setSample(x, 0, 0, values[x]);
        }
        RgbImage g = loader.load(write(gray, "png"));
        assertArrayEquals(new int[] {0, 0, 128, 255}, new int[] {g.get(0, 0, 0), g.get(1, 0, 0), g.get(2, 0, 2), g.get(3, 0, 1)});

        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), new int[] {16, 16, 16},
                false, false, Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
        WritableRaster raster = cm.createCompatibleWritableRaster(2, 1);
        raster.setPixel(0, 0, new int[] {65535, 0, 257 * 100});
        raster.setPixel(1, 0, new int[] {257 * 7 + 200, 1000, 65000});
        RgbImage rgb = loader.load(write(new BufferedImage(cm, raster, false, null), "png"));
        assertEquals(0xff0064, rgb.rgbAt(0, 0));
        assertEquals(8 << 16 | 4 << 8 | 253, rgb.rgbAt(1, 0));
    }

    @Test
    void alphaIsDroppedNotComposited() throws IOException {
        BufferedImage argb = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x00123456); // fully transparent
        argb.setRGB(1, 0, 0x80abcdef);
        RgbImage image = loader.load(write(argb, "png"));
        assertEquals(0x123456, image.rgbAt(0, 0));
        assertEquals(0xabcdef, image.rgbAt(1, 0));
    }

    @Test
    void paletteImagesGoThroughTheirPalette() throws IOException {
        byte[] r = {0, (byte) 200, 10};
        byte[] g = {0, 100, 20};
        byte[] b = {0, 50, (byte) 250};
        // Not BMP: the JDK's BMP writer packs a 3-colour palette into a 4-bit header but writes 8-bit pixels.
        for (String format : new String[] {"png", "gif"}) {
            BufferedImage indexed = format.equals("png")
                    ? new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_BINARY, new IndexColorModel(2, 3, r, g, b))
                    : new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 3, r, g, b));
            indexed.getRaster().setSample(0, 0, 0, 1);
            indexed.getRaster().setSample(1, 0, 0, 2);
            indexed.getRaster().setSample(2, 0, 0, 0);
            RgbImage image = loader.load(write(indexed, format));
            assertEquals(200 << 16 | 100 << 8 | 50, image.rgbAt(0, 0), format);
            assertEquals(10 << 16 | 20 << 8 | 250, image.rgbAt(1, 0), format);
            assertEquals(0, image.rgbAt(2, 0), format);
        }
    }

    @Test
    void aHugeHeaderIsRejectedBeforeDecoding() throws IOException {
        Path file = dir.resolve("huge.png");
        Files.write(file, png(100_000, 100_000, new byte[0]));
        long before = usedMemory();
        ImageLoader.ImageFormatException e = assertThrows(ImageLoader.ImageFormatException.class, () -> loader.load(file));
        assertTrue(e.getMessage().contains("huge.png") && e.getMessage().contains("100000x100000")
                && e.getMessage().contains("more than the limit of 89478485"), e.getMessage());
        assertTrue(usedMemory() - before < 1L << 30, "no pixel buffer was allocated");
        assertArrayEquals(new int[] {100_000, 100_000}, new ImageLoader(Long.MAX_VALUE).readSize(file));
    }

    @Test
    void anImageWhoseDecodingWouldTakeOverHalfTheHeapIsRejectedBeforeDecoding() throws IOException {
        long heap = Runtime.getRuntime().maxMemory();
        int side = (int) Math.min(Integer.MAX_VALUE, (long) Math.sqrt(heap / 7.0) + 1000); // 7 bytes a pixel > heap / 2
        Path file = dir.resolve("wide.png");
        Files.write(file, png(side, side, new byte[0]));
        ImageLoader.ImageFormatException e = assertThrows(ImageLoader.ImageFormatException.class,
                () -> new ImageLoader(Long.MAX_VALUE).load(file));
        assertTrue(e.getMessage().startsWith(file + ": decoding this " + side + "x" + side + " image needs about"), e.getMessage());
        assertTrue(e.getMessage().contains("raise NVLM_HEAP"), e.getMessage());
    }

    @Test
    void theLimitIsConfigurable() throws IOException {
        Path file = write(randomRgb(10, 10, 1), "png");
        assertEquals(10, new ImageLoader(100).load(file).width());
        String message = assertThrows(IOException.class, () -> new ImageLoader(99).load(file)).getMessage();
        assertTrue(message.contains("10x10 = 100 pixels, more than the limit of 99"), message);
    }

    @Test
    void zeroWidthImagesAreRejected() throws IOException {
        Path file = dir.resolve("zero.png");
        Files.write(file, png(0, 10, new byte[0]));
        String message = assertThrows(IOException.class, () -> loader.load(file)).getMessage();
        assertTrue(message.contains("zero.png") && message.toLowerCase().contains("width"), message);
    }

    @Test
    void truncatedImagesAreErrorsNamingTheFile() throws IOException {
        for (String format : new String[] {"png", "jpg", "gif", "bmp"}) {
            byte[] whole = Files.readAllBytes(write(randomRgb(64, 48, 3), format));
            Path cut = dir.resolve("cut." + format);
            Files.write(cut, Arrays.copyOf(whole, whole.length * 2 / 3));
            IOException e = assertThrows(IOException.class, () -> loader.load(cut), format);
            assertTrue(e.getMessage().contains("cut." + format) && e.getMessage().contains("corrupt or truncated"),
                    format + ": " + e.getMessage());
        }
    }

    @Test
    void corruptDataIsAnError() throws IOException {
        byte[] bytes = Files.readAllBytes(write(randomRgb(64, 48, 4), "png"));
        for (int i = 60; i < bytes.length - 20; i += 7) {
            bytes[i] ^= 0x5a; // scramble the compressed data
        }
        Path file = dir.resolve("scrambled.png");
        Files.write(file, bytes);
        String message = assertThrows(IOException.class, () -> loader.load(file)).getMessage();
        assertTrue(message.contains("scrambled.png"), message);
    }

    @Test
    void unsupportedFormatsAndMissingFilesAreNamed() throws IOException {
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "not an image");
        String message = assertThrows(IOException.class, () -> loader.load(text)).getMessage();
        assertTrue(message.contains("notes.txt") && message.contains("not a supported image format"), message);
        Path missing = dir.resolve("missing.png");
        message = assertThrows(IOException.class, () -> loader.load(missing)).getMessage();
        assertTrue(message.contains("missing.png"), message);
    }

    private static long usedMemory() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    private Path write(BufferedImage image, String format) throws IOException {
        Path file = Files.createTempFile(dir, "image", "." + format);
        if (!ImageIO.write(image, format, file.toFile())) {
            throw new IOException("no ImageIO writer for " + format + " and " + image);
        }
        return file;
    }

    static BufferedImage randomRgb(int w, int h, long seed) {
        Random random = new Random(seed);
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                image.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        return image;
    }

    /** A PNG with the given header and IDAT payload (no check that the payload fits the header). */
    static byte[] png(int width, int height, byte[] idat) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(out, "IHDR", ihdr.array());
        if (idat.length > 0) {
            chunk(out, "IDAT", idat);
        }
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        out.write(ByteBuffer.allocate(4).putInt(data.length).array());
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
