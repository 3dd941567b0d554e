package nvlm.trainer.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import nvlm.model.config.NvlmConfig;
import nvlm.model.tiling.BicubicResampler;
import nvlm.model.tiling.DynamicTiler;
import nvlm.model.tiling.ImageLoader;
import nvlm.model.tiling.RgbImage;
import nvlm.model.tiling.TagMode;
import nvlm.model.tiling.TilePlan;
import nvlm.tensor.io.Json;
import nvlm.trainer.report.LinePlot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./nvlm tiles}: shows how dynamic high-resolution tiling (docs/model.md §1) cuts an
 * image, and the tile tags (docs/model.md §6) the prompt gets.
 */
@Command(name = "tiles", header = "show how an image is tiled (grid, thumbnail, tile tags); --png draws it",
        customSynopsis = {"nvlm tiles IMAGE [options]", "       nvlm tiles --size WxH [options]"},
        description = """
                Prints the dynamic high-resolution tiling decision for an image (docs/model.md §1):
                the grid (columns x rows), the number of tiles including the thumbnail, and each tile's tag.""")
public final class TilesCommand implements NvlmCommand {
    @Parameters(paramLabel = "IMAGE", arity = "0..1", description = "a PNG, JPEG, BMP or GIF file (its size is read from the"
            + " header first)")
    Path image;
    @Option(names = "--size", paramLabel = "WxH", description = "decide for a size without an image, e.g. --size 1920x1080")
    String size;
    @Option(names = "--tag-mode", paramLabel = "M", defaultValue = "1d", description = "none, 1d, 2d_grid or 2d_bbox (default"
            + " ${DEFAULT-VALUE}): how tiles are tagged")
    TagMode mode;
    /** Largest --tile-size: the drawing holds the whole grid (up to 128 tiles) as one image. */
    static final int MAX_TILE_SIZE = 2048;

    @Option(names = "--tile-size", paramLabel = "S", converter = OptionTypes.AtLeastOne.class,
            description = "tile side in pixels (default ${DEFAULT-VALUE})")
    int tileSize = 448;
    @Option(names = "--max-tiles", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "most tiles in the grid, thumbnail not counted (default ${DEFAULT-VALUE})")
    int maxTiles = 6;
    @Option(names = "--min-tiles", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "fewest tiles in the grid (default ${DEFAULT-VALUE})")
    int minTiles = 1;
    @Option(names = "--no-thumbnail", description = "do not append the whole-image thumbnail to multi-tile grids")
    boolean noThumbnail;
    @Option(names = "--json", description = "print one line: {\"grid\":[cols,rows],\"tiles\":N,\"thumbnail\":true|false,"
            + "\"tags\":[...]} (tags: one per tile in prompt order, thumbnail last; [] in tag mode none)")
    boolean json;
    @Option(names = "--png", paramLabel = "OUT", description = "also draw the resized image with the grid and the tags (and the"
            + " thumbnail beside it) to the PNG file OUT (written to a temp file, then renamed)")
    Path png;
    @Option(names = "--max-pixels", paramLabel = "N", description = "refuse images with more pixels than this (default"
            + " ${DEFAULT-VALUE}, Pillow's limit)")
    long maxPixels = ImageLoader.DEFAULT_MAX_PIXELS;

    @Override
    public Integer call() throws IOException {
        if (minTiles > maxTiles) {
            throw new UsageException("--min-tiles " + minTiles + " is more than --max-tiles " + maxTiles);
        }
        if (tileSize > MAX_TILE_SIZE) {
            throw new UsageException("--tile-size " + tileSize + " is more than " + MAX_TILE_SIZE + " pixels (InternViT's tiles are 448)");
        }
        if (maxTiles > NvlmConfig.TilingConfig.MAX_TILES) {
            throw new UsageException("--max-tiles " + maxTiles + " is more than " + NvlmConfig.TilingConfig.MAX_TILES);
        }
        DynamicTiler tiler = new DynamicTiler(tileSize, minTiles, maxTiles, !noThumbnail);
        int width;
        int height;
        RgbImage picture = null;
        String what;
        if (size != null) {
            if (image != null) {
                throw new UsageException("give either an IMAGE or --size WxH, not both");
            }
            if (png != null) {
                throw new UsageException("--png needs an IMAGE to draw on, not --size");
            }
            int[] parsed = parseSize(size);
            width = parsed[0];
            height = parsed[1];
            what = "size";
        } else {
            if (image == null) {
                throw new UsageException("give an IMAGE or --size WxH (see ./nvlm tiles --help)");
            }
            if (maxPixels <= 0) {
                throw new UsageException("--max-pixels must be positive, got " + maxPixels);
            }
            ImageLoader loader = new ImageLoader(maxPixels);
            if (png != null) {
                picture = loader.load(image);
                width = picture.width();
                height = picture.height();
            } else {
                int[] read = loader.readSize(image); // the decision needs only the header
                width = read[0];
                height = read[1];
            }
            what = image.toString();
        }
        TilePlan plan = tiler.plan(width, height);
        List<String> tags = mode == TagMode.NONE ? List.of() : mode.tags(plan);
        if (json) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("grid", List.of(plan.cols(), plan.rows()));
            line.put("tiles", plan.tileCount());
            line.put("thumbnail", plan.thumbnail());
            line.put("tags", tags);
            System.out.println(Json.write(line));
        } else {
            printText(what, plan, mode);
        }
        if (png != null) {
            LinePlot.writePng(draw(picture, plan, mode), png);
            if (!json) {
                System.out.println("wrote " + png);
            }
        }
        return 0;
    }

    private void printText(String what, TilePlan plan, TagMode mode) {
        System.out.printf(Locale.ROOT, "%s: %dx%d -> grid %dx%d (cols x rows), %d tile%s of %dx%d%s, tag mode %s%n", what,
                plan.imageWidth(), plan.imageHeight(), plan.cols(), plan.rows(), plan.tileCount(), plan.tileCount() == 1 ? "" : "s",
                plan.tileSize(), plan.tileSize(), plan.thumbnail() ? " (" + plan.gridTiles() + " + thumbnail)" : "", mode.configName());
        for (int k = 0; k < plan.tileCount(); k++) {
            double[] b = plan.normalizedBox(k);
            String where = plan.isThumbnail(k) ? "whole image (thumbnail)"
                    : String.format(Locale.ROOT, "column %d, row %d: x %.3f-%.3f, y %.3f-%.3f", plan.column(k), plan.row(k),
                    b[0], b[2], b[1], b[3]);
            String tag = mode == TagMode.NONE ? "(no tag)" : mode.tag(plan, k);
            System.out.printf(Locale.ROOT, "  tile %-2d %-32s %s%n", k, tag, where);
        }
    }

    static int[] parseSize(String text) {
        String[] parts = text.toLowerCase(Locale.ROOT).split("x", -1);
        try {
            if (parts.length == 2) {
                int w = Integer.parseInt(parts[0].trim());
                int h = Integer.parseInt(parts[1].trim());
                if (w > 0 && h > 0) {
                    return new int[] {w, h};
                }
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("--size expects WIDTHxHEIGHT with positive integers, e.g. 1920x1080, got '" + text + "'");
    }

    /**
     * The image as the model sees it: resized to the grid with the tiles outlined and tagged, and
     * the thumbnail (if any) to the right.
     */
    static BufferedImage draw(RgbImage image, TilePlan plan, TagMode mode) {
        int s = plan.tileSize();
        int gridW = s * plan.cols();
        int gridH = s * plan.rows();
        int gap = plan.thumbnail() ? Math.max(8, s / 16) : 0;
        BufferedImage canvas = new BufferedImage(gridW + (plan.thumbnail() ? gap + s : 0), Math.max(gridH, s), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, canvas.getWidth(), canvas.getHeight());
            g.drawImage(BicubicResampler.resize(image, gridW, gridH).toBufferedImage(), 0, 0, null);
            if (plan.thumbnail()) {
                g.drawImage(BicubicResampler.resize(image, s, s).toBufferedImage(), gridW + gap, 0, null);
            }
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setStroke(new BasicStroke(Math.max(1f, s / 112f)));
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, Math.max(9, s / 20)));
            for (int k = 0; k < plan.tileCount(); k++) {
                int x = plan.isThumbnail(k) ? gridW + gap : plan.column(k) * s;
                int y = plan.isThumbnail(k) ? 0 : plan.row(k) * s;
                g.setColor(Color.RED);
                g.drawRect(x, y, s - 1, s - 1);
                String label = mode == TagMode.NONE ? "tile " + k : mode.tag(plan, k);
                label(g, label, x + 3, y + 3, s - 6);
            }
        } finally {
            g.dispose();
        }
        return canvas;
    }

    /** Draws {@code text} on a dark box, wrapped after '_' so that long (2d_bbox) tags fit in {@code maxWidth}. */
    private static void label(Graphics2D g, String text, int x, int y, int maxWidth) {
        FontMetrics m = g.getFontMetrics();
        List<String> lines = new java.util.ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String part : text.split("(?<=_)")) {
            if (!line.isEmpty() && m.stringWidth(line + part) + 6 > maxWidth) {
                lines.add(line.toString());
                line.setLength(0);
            }
            line.append(part);
        }
        lines.add(line.toString());
        int width = lines.stream().mapToInt(m::stringWidth).max().orElse(0);
        g.setColor(new Color(0, 0, 0, 170));
        g.fillRect(x, y, width + 6, m.getHeight() * lines.size() + 2);
        g.setColor(Color.YELLOW);
        for (int i = 0; i < lines.size(); i++) {
            g.drawString(lines.get(i), x + 3, y + 1 + m.getAscent() + i * m.getHeight());
        }
    }
}
