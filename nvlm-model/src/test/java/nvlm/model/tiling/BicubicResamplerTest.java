package nvlm.model.tiling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BicubicResamplerTest {
    /** Pillow 9.4's Image.resize(size, BICUBIC) outputs (pil_resize_fixtures.py). */
    @Test
    void resizeMatchesPillowPixelForPixel() throws IOException {
        int cases = 0;
        for (String line : DynamicTilerTest.resource("resize_cases.tsv").split("\n")) {
            if (line.startsWith("#") || line.startsWith("input") || line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t");
            RgbImage in = loadResource(f[0]);
            RgbImage expected = loadResource(f[3]);
            RgbImage actual = BicubicResampler.resize(in, Integer.parseInt(f[1]), Integer.parseInt(f[2]));
            assertEquals(expected.width(), actual.width());
            assertEquals(expected.height(), actual.height());
            int maxDiff = 0;
            for (int i = 0; i < expected.rgb().length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs((expected.rgb()[i] & 0xff) - (actual.rgb()[i] & 0xff)));
            }
            // Tolerance 0: the same fixed-point arithmetic as PIL's Resample.c.
            assertEquals(0, maxDiff, f[3] + ": max difference to Pillow in 8-bit levels");
            cases++;
        }
        assertEquals(11, cases);
    }

    @Test
    void resizeToTheSameSizeIsTheIdentity() {
        RgbImage image = random(17, 9, new Random(1));
        assertArrayEquals(image.rgb(), BicubicResampler.resize(image, 17, 9).rgb());
    }

    @Test
    void constantImagesStayConstantAtAnySize() {
        qt().withExamples(60).forAll(integers().between(1, 40), integers().between(1, 40), integers().between(1, 60),
                        integers().between(1, 60))
                .checkAssert((w, h, ow, oh) -> {
                    int v = (w * 31 + oh * 7) % 256;
                    byte[] rgb = new byte[w * h * 3];
                    java.util.Arrays.fill(rgb, (byte) v);
                    RgbImage out = BicubicResampler.resize(new RgbImage(w, h, rgb), ow, oh);
                    for (byte b : out.rgb()) {
                        assertEquals(v, b & 0xff);
                    }
                });
    }

    @Test
    void kernelIsKeysCubicWithAMinusHalf() {
        assertEquals(1.0, BicubicResampler.cubic(0), 0);
        assertEquals(0.0, BicubicResampler.cubic(1), 0);
        assertEquals(0.0, BicubicResampler.cubic(2), 0);
        assertEquals(0.5625, BicubicResampler.cubic(0.5), 1e-15); // (1.5*0.125 - 2.5*0.25 + 1)
        assertEquals(-0.0625, BicubicResampler.cubic(-1.5), 1e-15); // -0.5*(3.375 - 11.25 + 12 - 4)
    }

    static RgbImage random(int w, int h, Random random) {
        byte[] rgb = new byte[w * h * 3];
        random.nextBytes(rgb);
        return new RgbImage(w, h, rgb);
    }

    static RgbImage loadResource(String name) throws IOException {
        Path file = Files.createTempFile("nvlm-", "-" + name);
        try (InputStream in = BicubicResamplerTest.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("missing test resource " + name);
            }
            Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return new ImageLoader().load(file);
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
