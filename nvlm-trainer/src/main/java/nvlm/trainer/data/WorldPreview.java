package nvlm.trainer.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import nvlm.model.tiling.BicubicResampler;
import nvlm.model.tiling.DynamicTiler;
import nvlm.model.tiling.RgbImage;
import nvlm.model.tiling.TilePlan;

/**
 * PNG contact sheets of the synthetic world, for looking at what the models see: per example the
 * picture at native resolution, its tiles as cut by dynamic tiling (docs/model.md §1), the thumbnail, and
 * the question and answer.
 * <pre>
 *   java -cp nvlm.jar nvlm.trainer.data.WorldPreview OUT_DIR [TILE_SIZE] [PER_FAMILY] [SEED]
 * </pre>
 * writes {@code OUT_DIR/<family>.png} for every image family.
 */
public final class WorldPreview {
    private static final int GAP = 8;
    private static final int TEXT_SCALE = 2;
    private static final int LINE = (BitmapFont.HEIGHT + 3) * TEXT_SCALE;

    private WorldPreview() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args[0].equals("--help")) {
            System.out.println("usage: WorldPreview OUT_DIR [TILE_SIZE=112] [PER_FAMILY=4] [SEED=1]");
            return;
        }
        Path out = Path.of(args[0]);
        int tileSize = args.length > 1 ? Integer.parseInt(args[1]) : 112;
        int count = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        long seed = args.length > 3 ? Long.parseLong(args[3]) : 1;
        SyntheticWorld world = new SyntheticWorld(WorldConfig.defaults(tileSize).withSeed(seed));
        Files.createDirectories(out);
        for (Family family : Family.values()) {
            if (family.hasImage()) {
                Path file = out.resolve(family.id() + ".png");
                writeSheet(world, Split.TRAIN, family, count, file);
                System.out.println("wrote " + file);
            }
        }
    }

    /** One sheet of {@code count} examples of {@code family}, written atomically to {@code file}. */
    public static void writeSheet(SyntheticWorld world, Split split, Family family, int count, Path file) throws IOException {
        List<RgbImage> rows = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            rows.add(panel(world, world.example(split, family, i)));
        }
        int width = 0;
        int height = GAP;
        for (RgbImage r : rows) {
            width = Math.max(width, r.width());
            height += r.height() + GAP;
        }
        Canvas sheet = new Canvas(width + 2 * GAP, height, 0xd8d8d8);
        int y = GAP;
        for (RgbImage r : rows) {
            paste(sheet, r, GAP, y);
            y += r.height() + GAP;
        }
        write(sheet.toImage(), file);
    }

    /** The picture, its tiles (spaced apart, raster order) and thumbnail, and the question/answer text underneath. */
    static RgbImage panel(SyntheticWorld world, Example example) {
        RgbImage image = example.images().getFirst();
        int s = world.config().tileSize();
        TilePlan plan = new DynamicTiler(s, 1, world.config().maxTiles(), true).plan(image.width(), image.height());
        RgbImage grid = BicubicResampler.resize(image, s * plan.cols(), s * plan.rows());
        int tilesWidth = plan.cols() * (s + GAP);
        int width = image.width() + 3 * GAP + tilesWidth + (plan.thumbnail() ? s + GAP : 0);
        String[] lines = {"Q: " + example.question(), "A: " + example.answer(),
            plan.cols() + "X" + plan.rows() + " TILES" + (plan.thumbnail() ? " + THUMBNAIL" : "") + ", " + image.width() + "X"
                + image.height() + " PX"};
        int textWidth = 0;
        for (String l : lines) {
            textWidth = Math.max(textWidth, l.length() * 6 * TEXT_SCALE);
        }
        width = Math.max(width, textWidth + 2 * GAP);
        int pictures = Math.max(image.height(), plan.rows() * (s + GAP));
        Canvas c = new Canvas(width, pictures + lines.length * LINE + 2 * GAP, 0xf4f4f4);
        paste(c, image, GAP, GAP);
        int x0 = image.width() + 3 * GAP;
        for (int k = 0; k < plan.gridTiles(); k++) {
            int[] box = plan.pixelBox(k);
            paste(c, crop(grid, box[0], box[1], s), x0 + plan.column(k) * (s + GAP), GAP + plan.row(k) * (s + GAP));
        }
        if (plan.thumbnail()) {
            paste(c, BicubicResampler.resize(image, s, s), x0 + tilesWidth + GAP, GAP);
        }
        for (int i = 0; i < lines.length; i++) {
            BitmapFont.drawString(c, printable(lines[i]), GAP, GAP + pictures + i * LINE, TEXT_SCALE, 6 * TEXT_SCALE, 0x000000);
        }
        return c.toImage();
    }

    private static String printable(String text) {
        StringBuilder sb = new StringBuilder();
        for (char ch : text.toUpperCase(Locale.ROOT).toCharArray()) {
            sb.append(BitmapFont.has(ch) ? ch : '?');
        }
        return sb.toString();
    }

    private static RgbImage crop(RgbImage image, int x0, int y0, int s) {
        byte[] out = new byte[s * s * 3];
        for (int y = 0; y < s; y++) {
            System.arraycopy(image.rgb(), ((y0 + y) * image.width() + x0) * 3, out, y * s * 3, s * 3);
        }
        return new RgbImage(s, s, out);
    }

    private static void paste(Canvas canvas, RgbImage image, int x0, int y0) {
        for (int y = 0; y < image.height(); y++) {
            for (int x = 0; x < image.width(); x++) {
                canvas.set(x0 + x, y0 + y, image.rgbAt(x, y));
            }
        }
    }

    /** Writes a PNG through a temp file and a rename. */
    public static void write(RgbImage image, Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            if (!ImageIO.write(image.toBufferedImage(), "png", tmp.toFile())) {
                throw new IOException("no PNG writer for " + file);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
