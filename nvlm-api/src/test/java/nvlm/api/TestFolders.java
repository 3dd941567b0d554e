package nvlm.api;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.kernels.DType;
import nvlm.model.checkpoint.RandomPublishedFolder;
import nvlm.model.tiling.RgbImage;

/** A shrunk random-weight InternVL2-1B folder in the published layout, and test images. */
final class TestFolders {
    /** The published small files, kept with nvlm-model's tests. */
    static final Path PUBLISHED = Path.of("..", "nvlm-model", "src", "test", "resources", "published");

    private TestFolders() {
    }

    @SuppressWarnings("unchecked")
    static Path internVl(Path dir) throws IOException {
        RandomPublishedFolder.write(dir, PUBLISHED.resolve("internvl2-1b"), root -> {
            Map<String, Object> v = (Map<String, Object>) root.get("vision_config");
            v.put("hidden_size", 64L);
            v.put("num_attention_heads", 4L);
            v.put("num_hidden_layers", 1L);
            v.put("intermediate_size", 96L);
            Map<String, Object> l = (Map<String, Object>) root.get("llm_config");
            l.put("hidden_size", 64L);
            l.put("num_attention_heads", 4L);
            l.put("num_key_value_heads", 2L);
            l.put("num_hidden_layers", 2L);
            l.put("intermediate_size", 128L);
            root.put("max_dynamic_patch", 2L);
        }, DType.BF16, 5, Long.MAX_VALUE);
        return dir;
    }

    /** A bare Qwen2 text model: InternVL2-1B's llm_config (Qwen2-0.5B-Instruct's config) as config.json, shrunk. */
    @SuppressWarnings("unchecked")
    static Path qwen2(Path dir) throws IOException {
        RandomPublishedFolder.write(dir, PUBLISHED.resolve("internvl2-1b"), root -> {
            Map<String, Object> l = (Map<String, Object>) root.get("llm_config");
            root.clear();
            root.putAll(l);
            root.put("hidden_size", 64L);
            root.put("num_attention_heads", 4L);
            root.put("num_key_value_heads", 2L);
            root.put("num_hidden_layers", 2L);
            root.put("intermediate_size", 128L);
        }, DType.BF16, 9, Long.MAX_VALUE);
        return dir;
    }

    static RgbImage image(int w, int h, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) r.nextInt(256);
        }
        return new RgbImage(w, h, rgb);
    }

    static Path png(Path file, int w, int h, long seed) throws IOException {
        javax.imageio.ImageIO.write(image(w, h, seed).toBufferedImage(), "png", file.toFile());
        return file;
    }

    static byte[] pngBytes(Path dir, int w, int h, long seed) throws IOException {
        return Files.readAllBytes(png(dir.resolve("img-" + seed + ".png"), w, h, seed));
    }
}
