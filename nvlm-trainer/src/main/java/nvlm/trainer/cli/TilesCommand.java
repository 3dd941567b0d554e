package nvlm.trainer.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import nvlm.model.tiling.BicubicResampler;
import nvlm.model.tiling.DynamicTiler;
import nvlm.model.tiling.ImageLoader;
import nvlm.model.tiling.RgbImage;
import nvlm.model.tiling.TagMode;
import nvlm.model.tiling.TilePlan;
import nvlm.tensor.io.Json;

/**
 * {@code ./nvlm tiles}: shows how dynamic high-resolution tiling (docs/model.md §1) cuts an
 * image, and the tile tags (docs/model.md §6) the prompt gets.
 */
public final class TilesCommand implements Command {
    private static final String USAGE = """
            usage: ./nvlm tiles IMAGE [options]
                   ./nvlm tiles --size WxH [options]

            Prints the dynamic high-resolution tiling decision for an image (docs/model.md §1):
            the grid (columns x rows), the number of tiles including the thumbnail, and each tile's tag.

              IMAGE             a PNG, JPEG, BMP or GIF file (its size is read from the header first)
              --size WxH        decide for a size without an image, e.g. --size 1920x1080
              --tag-mode M      none | 1d | 2d_grid | 2d_bbox (default 1d): how tiles are tagged
              --tile-size S     tile side in pixels (default 448)
              --max-tiles N     most tiles in the grid, thumbnail not counted (default 6)
              --min-tiles N     fewest tiles in the grid (default 1)
              --no-thumbnail    do not append the whole-image thumbnail to multi-tile grids
              --json            print one line: {"grid":[cols,rows],"tiles":N,"thumbnail":true|false,"tags":[...]}
                                (tags: one per tile in prompt order, thumbnail last; [] in tag mode none)
              --png OUT         also draw the resized image with the grid and the tags (and the thumbnail
                                beside it) to the PNG file OUT (written to a temp file, then renamed)
              --max-pixels N    refuse images with more pixels than this (default 89478485, Pillow's limit)
              --help            this text
            """;

    private final PrintStream out;

    public TilesCommand() {
        this(System.out);
    }

    TilesCommand(PrintStream out) {
        this.out = out;
    }

    @Override
    public String name() {
        return "tiles";
    }

    @Override
    public String summary() {
        return "show how an image is tiled (grid, thumbnail, tile tags); --png draws it";
    }

    @Override
    public int run(List<String> words) throws IOException {
        Args args = Args.parse(name(), words, Set.of("tag-mode", "png", "tile-size", "max-tiles", "min-tiles", "size", "max-pixels"),
                Set.of("json", "no-thumbnail", "help"));
        if (args.has("help")) {
            out.print(USAGE);
            return 0;
        }
        TagMode mode;
        try {
            mode = TagMode.parse(args.get("tag-mode", "1d"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--tag-mode: " + e.getMessage());
        }
        int tileSize = positive(args, "tile-size", 448);
        int maxTiles = positive(args, "max-tiles", 6);
        int minTiles = positive(args, "min-tiles", 1);
        if (minTiles > maxTiles) {
            throw new UsageException("--min-tiles " + minTiles + " is more than --max-tiles " + maxTiles);
        }
        DynamicTiler tiler = new DynamicTiler(tileSize, minTiles, maxTiles, !args.has("no-thumbnail"));
        List<String> positional = args.positional();
        int width;
        int height;
        RgbImage image = null;
        String what;
        if (args.has("size")) {
            if (!positional.isEmpty()) {
                throw new UsageException("give either an IMAGE or --size WxH, not both");
            }
            if (args.has("png")) {
                throw new UsageException("--png needs an IMAGE to draw on, not --size");
            }
            int[] size = parseSize(args.get("size", null));
            width = size[0];
            height = size[1];
            what = "size";
        } else {
            if (positional.size() != 1) {
                throw new UsageException(positional.isEmpty() ? "give an IMAGE or --size WxH (see ./nvlm tiles --help)"
                        : "expected one IMAGE, got " + positional.size() + ": " + String.join(" ", positional));
            }
            long maxPixels = args.getLong("max-pixels", ImageLoader.DEFAULT_MAX_PIXELS);
            if (maxPixels <= 0) {
                throw new UsageException("--max-pixels must be positive, got " + maxPixels);
            }
            Path file = Path.of(positional.getFirst());
            ImageLoader loader = new ImageLoader(maxPixels);
            if (args.has("png")) {
                image = loader.load(file);
                width = image.width();
                height = image.height();
            } else {
                int[] size = loader.readSize(file); // the decision needs only the header
                width = size[0];
                height = size[1];
            }
            what = file.toString();
        }
        TilePlan plan = tiler.plan(width, height);
        List<String> tags = mode == TagMode.NONE ? List.of() : mode.tags(plan);
        if (args.has("json")) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("grid", List.of(plan.cols(), plan.rows()));
            json.put("tiles", plan.tileCount());
            json.put("thumbnail", plan.thumbnail());
            json.put("tags", tags);
            out.println(Json.write(json));
        } else {
            printText(what, plan, mode);
        }
        if (args.has("png")) {
            Path png = Path.of(args.get("png", null));
            writePngAtomically(draw(image, plan, mode), png);
            if (!args.has("json")) {
                out.println("wrote " + png);
            }
        }
        return 0;
    }

    private void printText(String what, TilePlan plan, TagMode mode) {
        out.printf(Locale.ROOT, "%s: %dx%d -> grid %dx%d (cols x rows), %d tile%s of %dx%d%s, tag mode %s%n", what,
                plan.imageWidth(), plan.imageHeight(), plan.cols(), plan.rows(), plan.tileCount(), plan.tileCount() == 1 ? "" : "s",
                plan.tileSize(), plan.tileSize(), plan.thumbnail() ? " (" + plan.gridTiles() + " + thumbnail)" : "", mode.configName());
        for (int k = 0; k < plan.tileCount(); k++) {
            double[] b = plan.normalizedBox(k);
            String where = plan.isThumbnail(k) ? "whole image (thumbnail)"
                    : String.format(Locale.ROOT, "column %d, row %d: x %.3f-%.3f, y %.3f-%.3f", plan.column(k), plan.row(k),
                    b[0], b[2], b[1], b[3]);
            String tag = mode == TagMode.NONE ? "(no tag)" : mode.tag(plan, k);
            out.printf(Locale.ROOT, "  tile %-2d %-32s %s%n", k, tag, where);
        }
    }

    private static int positive(Args args, String name, int fallback) {
        int v = args.getInt(name, fallback);
        if (v <= 0) {
            throw new UsageException("--" + name + " must be positive, got " + v);
        }
        return v;
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

    static void writePngAtomically(BufferedImage image, Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            if (!ImageIO.write(image, "png", tmp.toFile())) {
                throw new IOException("no PNG writer available");
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
