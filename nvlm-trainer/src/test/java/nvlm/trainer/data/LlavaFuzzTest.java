package nvlm.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import nvlm.model.config.Architecture;
import nvlm.model.config.Presets;
import nvlm.model.tokenizer.ProjectTokenizer;

/**
 * Jazzer fuzz test of the LLaVA reader: any bytes as the data file (beside an image folder with
 * one picture and a link out of it) are refused with a {@link java.io.IOException} naming the
 * file, or open into records that all read and encode; no path outside the folder is accepted.
 * Plain {@code mvn test} replays {@code LlavaFuzzTestInputs/}; {@code JAZZER_FUZZ=1} with
 * {@code -Djazzer.hooks=true} (coverage feedback) fuzzes for 10 minutes.
 */
class LlavaFuzzTest {
    private static final SampleEncoder ENCODER = SampleEncoder.forConfig(Presets.get("tiny", Architecture.D),
            ProjectTokenizer.instance(), SampleEncoder.Options.defaults());
    private static final byte[] PICTURE = picture();

    private static byte[] picture() {
        try {
            Path file = Files.createTempFile("fuzz-llava-picture", ".png");
            WorldPreview.write(new SyntheticWorld(WorldConfig.defaults(112)).example(Split.TRAIN, Family.SPATIAL, 0).images().getFirst(),
                    file);
            byte[] bytes = Files.readAllBytes(file);
            Files.delete(file);
            return bytes;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void llavaFilesOpenAndEncodeOrAreRefusedNamingTheFile(FuzzedDataProvider data) throws IOException {
        Path dir = Files.createTempDirectory("fuzz-llava");
        try {
            Path images = Files.createDirectory(dir.resolve("images"));
            Path outside = Files.createDirectory(dir.resolve("outside"));
            Files.write(images.resolve("a.png"), PICTURE);
            Files.write(outside.resolve("b.png"), PICTURE);
            Files.createSymbolicLink(images.resolve("link.png"), outside.resolve("b.png"));
            Path file = dir.resolve(data.consumeBoolean() ? "data.jsonl" : "data.json");
            byte[] bytes = data.consumeRemainingAsBytes();
            Files.write(file, bytes);
            // strict, or skipping up to 1 or 2 bad records (--skip-bad-records), special-token text plain or parsed
            // (--parse-special-tokens), from the input's length: the seeds stay as they are
            int maxBadRecords = bytes.length % 3;
            boolean parseSpecialTokens = bytes.length / 3 % 2 == 1;
            LlavaDataset dataset;
            try {
                dataset = LlavaDataset.open(file, images, new nvlm.model.tiling.ImageLoader(), false, maxBadRecords,
                        parseSpecialTokens);
            } catch (IOException refused) {
                assertTrue(String.valueOf(refused.getMessage()).startsWith(file.toString()), refused.getMessage());
                return;
            }
            assertTrue(dataset.skipped().size() <= maxBadRecords);
            for (LlavaDataset.Skipped skipped : dataset.skipped()) {
                assertTrue(skipped.message().startsWith(file.toString()), skipped.message());
            }
            for (int i = 0; i < dataset.size(); i++) {
                for (Path image : dataset.record(i).images()) {
                    assertTrue(image.toRealPath().startsWith(images.toRealPath()), image + " is outside the image folder");
                }
                // the length the batcher plans with (from the text and image headers) is the sample's
                assertEquals(ENCODER.length(dataset.outline(i)), ENCODER.encode(dataset.get(i)).length());
            }
        } finally {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
