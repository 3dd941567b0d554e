package nvlm.trainer.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.Presets;
import nvlm.tensor.io.Json;
import nvlm.trainer.backbone.Backbones;
import nvlm.trainer.recipe.DemoRecipe;
import nvlm.trainer.train.ProgressBar;
import nvlm.trainer.recipe.StageConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Both training experiments end to end with two steps per stage and one test example per family: the JSON they promise. */
class ExperimentRunsTest {
    private static final List<String> IMAGE_FAMILIES = List.of("ocr", "counting", "spatial", "chart");
    private static final List<String> TEXT_FAMILIES = List.of("text_arithmetic", "text_string");

    @TempDir
    Path dir;

    /** Backbones of the tiny preset in seconds: random weights, a manifest naming world seed 5. */
    static Path backbones(Path folder) throws IOException {
        Nvlm model = Nvlm.create(Presets.get(WorldExperiment.PRESET, WorldExperiment.ARCH), new SplittableRandom(11));
        Checkpoint.save(model, folder);
        Files.writeString(folder.resolve(Backbones.MANIFEST), "{\"world_seed\": 5}\n");
        return folder;
    }

    private static WorldExperiment minimal(String name, Path backbones, Path out, ByteArrayOutputStream log) {
        DemoRecipe base = DemoRecipe.of(WorldExperiment.ARCH, 3);
        DemoRecipe recipe = base.withStages(base.stage1().withBatch(2, 1), base.stage2().withBatch(2, 1)).withSteps(2, 2)
                .withEvalSamples(1, 1);
        return new WorldExperiment(name, backbones, recipe, 3, out, ProgressBar.Mode.OFF, false,
                new PrintStream(log, true, StandardCharsets.UTF_8));
    }

    private static void assertAccuracies(Map<?, ?> row, List<String> families, String mean, String what) {
        List<String> keys = new ArrayList<>(families);
        keys.add(mean);
        assertEquals(keys, List.copyOf(row.keySet()), what);
        for (Object v : row.values()) {
            double a = ((Number) v).doubleValue();
            assertTrue(a >= 0 && a <= 1, what + ": " + row);
        }
    }

    @Test
    void tileTagsGivesImageAccuracyPerSettingAndWritesResults() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Path out = dir.resolve("tile-tags");
        WorldExperiment w = minimal("tile-tags", backbones(dir.resolve("bb")), out, log);
        w = new WorldExperiment(w.name(), w.backbones(), w.recipe().withEvalSamples(1, 0), w.seed(), w.out(), w.progress(), w.json(),
                w.log());
        Map<String, Object> json = TileTagsExperiment.report(w);

        assertEquals(List.of("low_res", "dhr_no_tags", "1d", "2d_grid", "2d_bbox"), List.copyOf(json.keySet()));
        for (var e : json.entrySet()) {
            Map<?, ?> row = (Map<?, ?>) e.getValue();
            assertAccuracies(row, IMAGE_FAMILIES, "image_mean", e.getKey());
            double mean = IMAGE_FAMILIES.stream().mapToDouble(f -> (Double) row.get(f)).average().orElseThrow();
            assertEquals(mean, (Double) row.get("image_mean"), 1e-12);
            assertTrue(Files.exists(out.resolve(e.getKey()).resolve("stage2").resolve("model").resolve(Checkpoint.CONFIG)));
        }
        assertEquals(Json.parseObject(Json.write(json)), Json.parseObject(Files.readString(out.resolve(WorldExperiment.RESULTS))));
        String printed = log.toString(StandardCharsets.UTF_8);
        for (TileSetting s : TileSetting.values()) {
            assertTrue(printed.contains("\n" + s.label() + " "), s.label() + " row missing:\n" + printed);
        }
        // Each setting trained with its own tag mode: the model folder's config says which.
        Map<String, Object> config = Json.parseObject(Files.readString(out.resolve("2d_bbox").resolve("stage2").resolve("model")
                .resolve(Checkpoint.CONFIG)));
        assertEquals("2d_bbox", ((Map<?, ?>) config.get("tiling")).get("tag_mode"));
    }

    @Test
    void textMixGivesTextAccuracyOfTheBackboneAndBothSfts() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Path out = dir.resolve("text-mix");
        WorldExperiment w = minimal("text-mix", backbones(dir.resolve("bb")), out, log);
        Map<String, Object> json = TextMixExperiment.report(w);

        assertEquals(List.of("backbone", "sft_without_text", "sft_with_text"), List.copyOf(json.keySet()));
        List<String> families = new ArrayList<>(IMAGE_FAMILIES);
        families.addAll(TEXT_FAMILIES);
        for (var e : json.entrySet()) {
            Map<?, ?> row = (Map<?, ?>) e.getValue();
            assertAccuracies(row, families, "text_only_mean", e.getKey());
            double mean = TEXT_FAMILIES.stream().mapToDouble(f -> (Double) row.get(f)).average().orElseThrow();
            assertEquals(mean, (Double) row.get("text_only_mean"), 1e-12);
        }
        assertEquals(Json.parseObject(Json.write(json)), Json.parseObject(Files.readString(out.resolve(WorldExperiment.RESULTS))));
        // One stage 1; the two SFTs differ in their text-only ratio alone.
        StageConfig without = StageConfig.fromJson(Files.readString(out.resolve("sft_without_text").resolve("stage.json")), "without");
        StageConfig with = StageConfig.fromJson(Files.readString(out.resolve("sft_with_text").resolve("stage.json")), "with");
        assertEquals(0.0, without.textOnlyRatio());
        assertEquals(w.recipe().stage2().textOnlyRatio(), with.textOnlyRatio());
        assertTrue(with.textOnlyRatio() > 0);
        assertEquals(with.withTextOnlyRatio(0), without);
        assertTrue(Files.exists(out.resolve("stage1").resolve("model").resolve(Checkpoint.CONFIG)));
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("SFT, no text-only data"));
    }
}
