package nvlm.trainer.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinePlotTest {
    @TempDir
    Path dir;

    /** Pixels within a small distance of {@code c} in columns [x0, x1). */
    static int pixelsNear(BufferedImage image, Color c, int x0, int x1) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = x0; x < x1; x++) {
                Color p = new Color(image.getRGB(x, y));
                int d = Math.abs(p.getRed() - c.getRed()) + Math.abs(p.getGreen() - c.getGreen()) + Math.abs(p.getBlue() - c.getBlue());
                if (d < 40) {
                    n++;
                }
            }
        }
        return n;
    }

    @Test
    void aPlotDecodesAsPngWithEachSeriesDrawnAcrossTheAxes() throws Exception {
        int n = 200;
        double[] x = new double[n];
        double[] loss = new double[n];
        double[] other = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i + 1;
            loss[i] = 4 * Math.exp(-i / 50.0) + 0.5;
            other[i] = 1 + 0.5 * Math.sin(i / 10.0);
        }
        LinePlot plot = new LinePlot("Training loss", "step", "loss").line("stage 1", x, loss).line("stage 2", x, other)
                .marker(100, "stage 2");
        Path png = dir.resolve("loss.png");
        plot.write(png, 640, 360);

        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(640, image.getWidth());
        assertEquals(360, image.getHeight());
        long nonWhite = 0;
        for (int yy = 0; yy < image.getHeight(); yy++) {
            for (int xx = 0; xx < image.getWidth(); xx++) {
                if ((image.getRGB(xx, yy) & 0xffffff) != 0xffffff) {
                    nonWhite++;
                }
            }
        }
        double fraction = (double) nonWhite / (image.getWidth() * image.getHeight());
        assertTrue(fraction > 0.02 && fraction < 0.5, "ink fraction " + fraction);
        // Both series' colours appear in the left and right halves of the plot (lines span the x range).
        for (Color c : new Color[] {LinePlot.PALETTE.get(0), LinePlot.PALETTE.get(1)}) {
            assertTrue(pixelsNear(image, c, 80, 320) > 50, c + " in the left half");
            assertTrue(pixelsNear(image, c, 320, 600) > 50, c + " in the right half");
        }
    }

    @Test
    void nanValuesBreakTheLineAndASinglePointStillShows() {
        LinePlot plot = new LinePlot("t", "x", "y")
                .line("gappy", new double[] {1, 2, 3, 4}, new double[] {1, Double.NaN, 3, 4})
                .add(new LinePlot.Series("one", new double[] {2}, new double[] {2}, LinePlot.PALETTE.get(3), false, true));
        BufferedImage image = plot.render(400, 300);
        assertTrue(pixelsNear(image, LinePlot.PALETTE.get(3), 0, 400) > 10, "the single point is drawn");
    }

    @Test
    void mismatchedSeriesLengthsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LinePlot.Series("s", new double[2], new double[3], Color.RED, false, false));
        assertTrue(e.getMessage().contains("'s'") && e.getMessage().contains("2") && e.getMessage().contains("3"), e.getMessage());
    }
}
