package nvlm.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import nvlm.model.config.ModelSize;
import nvlm.model.config.NvlmConfig;
import nvlm.model.tiling.DynamicTiler;
import nvlm.model.tiling.ImageLoader;
import nvlm.model.tiling.RgbImage;

/**
 * Jazzer fuzz tests of what users hand the model: config.json, batch files and images. Each input
 * is accepted or refused with the reader's own exception naming the file, never another one (a
 * NullPointerException, a ClassCastException, an ArithmeticException, an OutOfMemoryError). Under
 * plain {@code mvn test} they replay the seed corpus in {@code InputFuzzTestInputs/};
 * {@code JAZZER_FUZZ=1} with {@code -Djazzer.hooks=true} fuzzes for real, 10 minutes per target
 * (without the hooks there is no coverage feedback; the run counts are in docs/results.md).
 */
class InputFuzzTest {

    /** Any bytes as config.json: a config (whose size and limits can be computed) or an error starting with the file name. */
    @FuzzTest(maxDuration = "10m")
    void configJsonIsReadOrRefusedNamingTheFile(FuzzedDataProvider data) throws IOException {
        Path file = Files.createTempFile("fuzz-config", ".json");
        try {
            Files.write(file, data.consumeRemainingAsBytes());
            NvlmConfig config;
            try {
                config = NvlmConfig.read(file);
            } catch (IllegalArgumentException | IOException refused) {
                assertTrue(String.valueOf(refused.getMessage()).startsWith(file.toString()), refused.getMessage());
                return;
            }
            assertTrue(ModelSize.parameters(config) > 0);
            assertTrue(config.tiling().maxTiles() <= NvlmConfig.TilingConfig.MAX_TILES);
            NvlmConfig.fromJson(config.toJson(), "round trip");
        } finally {
            Files.delete(file);
        }
    }

    /** Any bytes as a batch file: a batch or an IOException / IllegalArgumentException naming the file. */
    @FuzzTest(maxDuration = "10m")
    void batchFilesAreReadOrRefusedNamingTheFile(FuzzedDataProvider data) throws IOException {
        Path file = Files.createTempFile("fuzz-batch", ".safetensors");
        try {
            Files.write(file, data.consumeRemainingAsBytes());
            Batch batch;
            try {
                batch = Batch.read(file);
            } catch (IllegalArgumentException | IOException refused) {
                assertTrue(String.valueOf(refused.getMessage()).contains(file.getFileName().toString()), refused.getMessage());
                return;
            }
            assertTrue(batch.rows() >= 0 && batch.length() >= 0);
        } finally {
            Files.delete(file);
        }
    }

    /** Any bytes as an image: an RGB image that tiles, or an IOException naming the file; decoding stays within 1 M pixels. */
    @FuzzTest(maxDuration = "10m")
    void imagesDecodeOrAreRefusedNamingTheFile(FuzzedDataProvider data) throws IOException {
        Path file = Files.createTempFile("fuzz-image", ".img");
        try {
            Files.write(file, data.consumeRemainingAsBytes());
            RgbImage image;
            try {
                image = new ImageLoader(1 << 20).load(file);
            } catch (IOException refused) {
                assertTrue(String.valueOf(refused.getMessage()).startsWith(file.toString()), refused.getMessage());
                return;
            }
            assertTrue((long) image.width() * image.height() <= 1 << 20);
            new DynamicTiler(28, 1, 6, true).tile(image);
        } finally {
            Files.delete(file);
        }
    }

}
