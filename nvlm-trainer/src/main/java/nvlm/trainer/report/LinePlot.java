package nvlm.trainer.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A line chart drawn with Java2D into a PNG, with no plotting library: axes with nice ticks and
 * labels, a grid, one polyline per series, a legend, and optional dashed vertical markers
 * (stage boundaries). NaN y values break a line. Rendering is headless.
 */
public final class LinePlot {
    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /** Matplotlib's "tab10" colours: distinct, and readable on white. */
    public static final List<Color> PALETTE = List.of(new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
            new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
            new Color(0xbcbd22), new Color(0x17becf));

    /**
     * One line. {@code faint} draws it translucent and leaves it out of the legend (raw values
     * under a smoothed line); {@code markers} draws a dot at every point (sparse evaluations).
     */
    public record Series(String name, double[] x, double[] y, Color color, boolean faint, boolean markers) {
        public Series {
            if (x.length != y.length) {
                throw new IllegalArgumentException("series '" + name + "': " + x.length + " x values but " + y.length + " y values");
            }
        }
    }

    private record Marker(double x, String label) {
    }

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();
    private final List<Marker> markers = new ArrayList<>();
    private double fixedMin = Double.NaN;
    private double fixedMax = Double.NaN;

    public LinePlot(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    /** Adds a series in the next palette colour. */
    public LinePlot line(String name, double[] x, double[] y) {
        return add(new Series(name, x, y, nextColor(), false, false));
    }

    public LinePlot add(Series s) {
        series.add(s);
        return this;
    }

    /** The colour the next {@link #line} gets. */
    public Color nextColor() {
        long distinct = series.stream().filter(s -> !s.faint()).count();
        return PALETTE.get((int) (distinct % PALETTE.size()));
    }

    /** Fixes the y range (e.g. 0 to 1 for accuracy) instead of fitting the data. */
    public LinePlot yRange(double min, double max) {
        fixedMin = min;
        fixedMax = max;
        return this;
    }

    /** A dashed vertical line at {@code x} labelled at the top (e.g. "stage 2"). */
    public LinePlot marker(double x, String label) {
        markers.add(new Marker(x, label));
        return this;
    }

    /** Draws the chart. */
    public BufferedImage render(int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            draw(g, width, height);
        } catch (Error | RuntimeException e) {
            // Headless JDKs without fontconfig fonts fail on the first drawString.
            throw new IllegalStateException("cannot draw plot '" + title + "': " + e
                    + " (Java2D needs a font: install fontconfig and a TrueType font such as fonts-dejavu-core)", e);
        } finally {
            g.dispose();
        }
        return image;
    }

    /** Writes the chart as a PNG, atomically. */
    public void write(Path file, int width, int height) throws IOException {
        writePng(render(width, height), file);
    }

    /** Writes {@code image} as a PNG: to a temporary file, then renamed, so a failure leaves nothing behind. */
    public static void writePng(BufferedImage image, Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            if (!ImageIO.write(image, "png", tmp.toFile())) {
                throw new IOException("no PNG writer available for " + file);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private void draw(Graphics2D g, int width, int height) {
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
        Font titleFont = font.deriveFont(Font.BOLD, 14f);
        g.setFont(font);
        FontMetrics fm = g.getFontMetrics();

        double[] xr = range(true);
        double[] yr = Double.isNaN(fixedMin) ? padded(range(false)) : new double[] {fixedMin, fixedMax};
        AxisTicks xt = AxisTicks.nice(xr[0], xr[1], 8);
        AxisTicks yt = AxisTicks.nice(yr[0], yr[1], 6);
        int yLabelWidth = 0;
        for (double v : yt.values()) {
            yLabelWidth = Math.max(yLabelWidth, fm.stringWidth(yt.label(v)));
        }
        int left = 24 + yLabelWidth + 10;
        int right = width - 16;
        int top = 36;
        int bottom = height - 48;
        int plotW = right - left;
        int plotH = bottom - top;

        // Title, axis labels.
        g.setColor(Color.BLACK);
        g.setFont(titleFont);
        g.drawString(title, left + (plotW - g.getFontMetrics().stringWidth(title)) / 2, 22);
        g.setFont(font);
        g.drawString(xLabel, left + (plotW - fm.stringWidth(xLabel)) / 2, height - 10);
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2);
        g.drawString(yLabel, -(top + (plotH + fm.stringWidth(yLabel)) / 2), 14);
        g.setTransform(saved);

        // Grid and ticks.
        Scale sx = new Scale(xt.min(), xt.max(), left, right);
        Scale sy = new Scale(yt.min(), yt.max(), bottom, top);
        for (double v : xt.values()) {
            int px = sx.map(v);
            g.setColor(new Color(0xe6e6e6));
            g.drawLine(px, top, px, bottom);
            g.setColor(Color.BLACK);
            g.drawLine(px, bottom, px, bottom + 4);
            String label = xt.label(v);
            g.drawString(label, px - fm.stringWidth(label) / 2, bottom + 6 + fm.getAscent());
        }
        for (double v : yt.values()) {
            int py = sy.map(v);
            g.setColor(new Color(0xe6e6e6));
            g.drawLine(left, py, right, py);
            g.setColor(Color.BLACK);
            g.drawLine(left - 4, py, left, py);
            String label = yt.label(v);
            g.drawString(label, left - 6 - fm.stringWidth(label), py + fm.getAscent() / 2 - 1);
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, plotW, plotH);

        // Stage markers.
        g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {5f, 4f}, 0f));
        for (Marker m : markers) {
            int px = sx.map(m.x());
            g.setColor(new Color(0x555555));
            g.drawLine(px, top, px, bottom);
            g.drawString(m.label(), px + 4, top + fm.getAscent() + 2);
        }

        // Series, clipped to the plot area (widened by a dot's radius, so dots at the edges stay whole).
        g.setClip(left - 4, top - 4, plotW + 9, plotH + 9);
        for (Series s : series) {
            Color c = s.faint() ? new Color(s.color().getRed(), s.color().getGreen(), s.color().getBlue(), 70) : s.color();
            g.setColor(c);
            g.setStroke(new BasicStroke(s.faint() ? 1f : 2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            Path2D.Double path = new Path2D.Double();
            boolean penDown = false;
            for (int i = 0; i < s.x().length; i++) {
                double x = s.x()[i];
                double y = s.y()[i];
                if (!Double.isFinite(x) || !Double.isFinite(y)) {
                    penDown = false;
                    continue;
                }
                if (penDown) {
                    path.lineTo(sx.mapExact(x), sy.mapExact(y));
                } else {
                    path.moveTo(sx.mapExact(x), sy.mapExact(y));
                    penDown = true;
                }
                if (s.markers() || s.x().length == 1) {
                    g.fill(new Ellipse2D.Double(sx.mapExact(x) - 3.5, sy.mapExact(y) - 3.5, 7, 7));
                }
            }
            g.draw(path);
        }
        g.setClip(null);

        // Legend (top right, inside the plot).
        List<Series> named = series.stream().filter(s -> !s.faint()).toList();
        if (!named.isEmpty()) {
            int legendW = 0;
            for (Series s : named) {
                legendW = Math.max(legendW, fm.stringWidth(s.name()));
            }
            legendW += 36;
            int rowH = fm.getHeight() + 2;
            int lx = right - legendW - 8;
            int ly = top + 8;
            g.setStroke(new BasicStroke(1f));
            g.setColor(new Color(255, 255, 255, 220));
            g.fillRect(lx, ly, legendW, rowH * named.size() + 6);
            g.setColor(new Color(0xaaaaaa));
            g.drawRect(lx, ly, legendW, rowH * named.size() + 6);
            for (int i = 0; i < named.size(); i++) {
                int cy = ly + 4 + i * rowH + rowH / 2;
                g.setColor(named.get(i).color());
                g.setStroke(new BasicStroke(3f));
                g.drawLine(lx + 6, cy, lx + 24, cy);
                g.setColor(Color.BLACK);
                g.drawString(named.get(i).name(), lx + 30, cy + fm.getAscent() / 2 - 1);
            }
        }
    }

    /** [min, max] of the finite x (or y) values of every series and marker. */
    private double[] range(boolean xAxis) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            double[] v = xAxis ? s.x() : s.y();
            double[] other = xAxis ? s.y() : s.x();
            for (int i = 0; i < v.length; i++) {
                if (Double.isFinite(v[i]) && Double.isFinite(other[i])) {
                    min = Math.min(min, v[i]);
                    max = Math.max(max, v[i]);
                }
            }
        }
        if (xAxis) {
            for (Marker m : markers) {
                min = Math.min(min, m.x());
                max = Math.max(max, m.x());
            }
        }
        return min <= max ? new double[] {min, max} : new double[] {0, 1};
    }

    /**
     * 5% headroom above and below, so a line at its maximum does not run along the frame; data
     * that never goes below zero (learning rates, losses) keeps a floor of zero.
     */
    private static double[] padded(double[] r) {
        double pad = 0.05 * (r[1] - r[0]);
        double lo = r[0] - pad;
        return new double[] {r[0] >= 0 ? Math.max(0, lo) : lo, r[1] + pad};
    }

    /** Linear map from data to pixels. */
    private record Scale(double lo, double hi, int pixelLo, int pixelHi) {
        double mapExact(double v) {
            return pixelLo + (v - lo) / (hi - lo) * (pixelHi - pixelLo);
        }

        int map(double v) {
            return (int) Math.round(mapExact(v));
        }
    }
}
