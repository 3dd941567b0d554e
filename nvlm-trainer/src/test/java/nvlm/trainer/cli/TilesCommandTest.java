package nvlm.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import nvlm.tensor.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TilesCommandTest {
    @TempDir
    Path dir;

    private static String run(String... args) {
        return tiles(args).expect(0).out();
    }

    private static CommandLineRun tiles(String... args) {
        String[] words = new String[args.length + 1];
        words[0] = "tiles";
        System.arraycopy(args, 0, words, 1, args.length);
        return CommandLineRun.of(words);
    }

    @Test
    void jsonForASizeIsOneExactLine() throws IOException {
        assertEquals("{\"grid\":[2,1],\"tiles\":3,\"thumbnail\":true,\"tags\":[\"<tile_1>\",\"<tile_2>\",\"<tile_global_thumbnail>\"]}\n",
                run("--size", "1920x1080", "--json"));
        assertEquals("{\"grid\":[1,1],\"tiles\":1,\"thumbnail\":false,\"tags\":[\"<tile_global_thumbnail>\"]}\n",
                run("--size", "300x300", "--json"));
        assertEquals("{\"grid\":[6,1],\"tiles\":7,\"thumbnail\":true,\"tags\":[]}\n", run("--size", "4000x1", "--json", "--tag-mode", "none"));
        assertEquals("{\"grid\":[2,1],\"tiles\":2,\"thumbnail\":false,\"tags\":[\"<tile_x0_y0>\",\"<tile_x1_y0>\"]}\n",
                run("--size", "1920x1080", "--json", "--tag-mode", "2d_grid", "--no-thumbnail"));
    }

    @Test
    void flagsChangeTheDecision() throws IOException {
        Map<String, Object> json = Json.parseObject(run("--size", "1920x1080", "--json", "--max-tiles", "12"));
        assertEquals(List.of(4L, 2L), json.get("grid"));
        assertEquals(9L, json.get("tiles"));
        json = Json.parseObject(run("--size", "300x150", "--json", "--tile-size", "112", "--tag-mode", "2d_bbox"));
        assertEquals(List.of("<tile_bbox_0.00_0.00_0.50_1.00>", "<tile_bbox_0.50_0.00_1.00_1.00>", "<tile_global_thumbnail>"),
                json.get("tags"));
    }

    @Test
    void anImageFileIsDecidedFromItsHeaderAndDrawnToAPng() throws IOException {
        Path image = dir.resolve("wide.png");
        BufferedImage source = new BufferedImage(200, 100, BufferedImage.TYPE_INT_RGB);
        for (int x = 0; x < 200; x++) {
            for (int y = 0; y < 100; y++) {
                source.setRGB(x, y, x << 16 | y << 8 | 90);
            }
        }
        ImageIO.write(source, "png", image.toFile());
        Path png = dir.resolve("out.png");
        String text = run(image.toString(), "--tile-size", "64", "--png", png.toString());
        assertTrue(text.startsWith(image + ": 200x100 -> grid 2x1 (cols x rows), 3 tiles of 64x64 (2 + thumbnail), tag mode 1d"), text);
        assertTrue(text.contains("<tile_global_thumbnail>") && text.contains("wrote " + png), text);
        BufferedImage drawn = ImageIO.read(png.toFile());
        int gap = 8;
        assertEquals(2 * 64 + gap + 64, drawn.getWidth());
        assertEquals(64, drawn.getHeight());
        assertEquals(0xff0000, drawn.getRGB(0, 40) & 0xffffff, "tile outline");
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().contains(".tmp")), "no temp file left");
        }
        assertEquals("{\"grid\":[2,1],\"tiles\":3,\"thumbnail\":true,\"tags\":[\"<tile_1>\",\"<tile_2>\",\"<tile_global_thumbnail>\"]}\n",
                run(image.toString(), "--json"));
    }

    @Test
    void badCommandLinesAreUsageErrors() {
        assertUsage("give an IMAGE or --size WxH (see ./nvlm tiles --help)");
        assertUsage("--size expects WIDTHxHEIGHT with positive integers, e.g. 1920x1080, got '0x5'", "--size", "0x5");
        assertUsage("--size expects WIDTHxHEIGHT with positive integers, e.g. 1920x1080, got 'big'", "--size", "big");
        assertUsage("Invalid value for option '--tag-mode': unknown tag mode '3d': expected none, 1d, 2d_grid or 2d_bbox",
                "--size", "10x10", "--tag-mode", "3d");
        assertUsage("--png needs an IMAGE to draw on, not --size", "--size", "10x10", "--png", "x.png");
        assertUsage("give either an IMAGE or --size WxH, not both", "a.png", "--size", "10x10");
        assertUsage("Invalid value for option '--max-tiles': must be >= 1, got 0", "--size", "10x10", "--max-tiles", "0");
        assertUsage("--min-tiles 7 is more than --max-tiles 6", "--size", "10x10", "--min-tiles", "7");
        assertUsage("--tile-size 8000 is more than 2048 pixels", "--size", "10x10", "--tile-size", "8000");
        assertUsage("--max-tiles 2000000000 is more than 128", "--size", "10x10", "--max-tiles", "2000000000");
        assertUsage("Unknown option: '--colour'", "--size", "10x10", "--colour");
        assertUsage("Unmatched argument at index 2: 'b.png'", "a.png", "b.png");
    }

    private static void assertUsage(String message, String... args) {
        String err = tiles(args).expect(Main.USAGE_ERROR).err();
        assertTrue(err.startsWith("nvlm tiles: " + message), err);
    }

    @Test
    void unreadableImagesAreErrorsNamingTheFile() throws IOException {
        Path missing = dir.resolve("missing.png");
        assertTrue(tiles(missing.toString()).expect(Main.FAILURE).err().contains("missing.png"));
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "hello");
        String message = tiles(text.toString(), "--json").expect(Main.FAILURE).err();
        assertTrue(message.contains("notes.txt") && message.contains("not a supported image format"), message);
        Path big = dir.resolve("big.png");
        ImageIO.write(new BufferedImage(50, 50, BufferedImage.TYPE_INT_RGB), "png", big.toFile());
        message = tiles(big.toString(), "--max-pixels", "2000").expect(Main.FAILURE).err();
        assertTrue(message.contains("50x50 = 2500 pixels, more than the limit of 2000"), message);
    }
}
