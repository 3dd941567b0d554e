package nvlm.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.Architecture;
import nvlm.model.config.Presets;
import nvlm.tensor.io.Json;
import nvlm.trainer.pipeline.DataSpec;
import nvlm.trainer.train.MetricsLog;
import nvlm.trainer.recipe.StageConfig;
import nvlm.trainer.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** eval and train on the world: their errors, and what they write. */
class WorkflowCommandsTest {
    @TempDir
    Path dir;

    @Test
    void evalWithoutMemoryAnswersAsTheSameModelSavedWithClosedGates() throws Exception {
        Nvlm open = Nvlm.create(Presets.get("tiny", Architecture.H), new SplittableRandom(3));
        try (var noGrad = nvlm.tensor.GradMode.disabled()) {
            for (var block : open.languageModel().crossAttentionBlocks()) {
                block.attnGate().set(nvlm.tensor.Tensor.of(new float[] {0.9f}));
                block.ffGate().set(nvlm.tensor.Tensor.of(new float[] {-0.7f}));
            }
        }
        Checkpoint.save(open, dir.resolve("open"));
        EvalCommand.closeGates(open);
        Checkpoint.save(open, dir.resolve("closed"));
        String asOpen = answers("open", false);
        String withoutMemory = answers("open", true);
        assertEquals(answers("closed", false), withoutMemory);
        assertTrue(!asOpen.equals(withoutMemory), "the open gates change some answer:\n" + asOpen);
        String err = CommandLineRun.of("eval", "--model", saveD().toString(), "--no-memory").expect(Main.USAGE_ERROR).err();
        assertTrue(err.contains("--no-memory: ") && err.contains("NVLM-D model without cross-attention blocks"), err);
    }

    /** The answers lines of eval --show on a model folder under {@code dir}. */
    private String answers(String folder, boolean noMemory) {
        List<String> words = new java.util.ArrayList<>(List.of("eval", "--model", dir.resolve(folder).toString(), "--samples", "2",
                "--text-samples", "2", "--show", "2", "--max-new-tokens", "6", "--progress", "off"));
        if (noMemory) {
            words.add("--no-memory");
        }
        String out = CommandLineRun.of(words.toArray(String[]::new)).expect(0).out();
        assertEquals(noMemory, out.lines().findFirst().orElseThrow().contains("with every cross-attention gate at 0"), out);
        return String.join("\n", out.lines().filter(l -> l.startsWith("  test/")).toList());
    }

    private Path saveD() throws Exception {
        Path d = dir.resolve("d");
        Checkpoint.save(Nvlm.create(Presets.get("tiny", Architecture.D), new SplittableRandom(4)), d);
        return d;
    }

    @Test
    void mistakesAreUsageErrorsNamingTheOption() {
        String err = CommandLineRun.of("eval", "--model", "m", "--families", "caption").expect(Main.USAGE_ERROR).err();
        assertTrue(err.contains("--families: caption is not scored by exact match"), err);
        err = CommandLineRun.of("init", "--arch", "d", "--preset", "nvlm-d-72b", "--out", "o").expect(Main.USAGE_ERROR).err();
        assertTrue(err.contains("nvlm-d-72b has 79B parameters"), err);
    }

    @Test
    void evalPrintsOneJsonObjectOfAccuracies() throws Exception {
        Path model = dir.resolve("model");
        Checkpoint.save(Nvlm.create(Presets.get("tiny", Architecture.D), new SplittableRandom(1)), model);
        String printed = CommandLineRun.of("eval", "--model", model.toString(), "--json", "--samples", "1", "--max-new-tokens", "4")
                .expect(0).out().strip();
        Map<String, Object> json = Json.parseObject(printed);
        assertEquals(List.of("ocr", "counting", "spatial", "chart", "text_arithmetic", "text_string"), List.copyOf(json.keySet()));
        for (Object v : json.values()) {
            double a = ((Number) v).doubleValue();
            assertTrue(a >= 0 && a <= 1, printed);
        }
        String table = CommandLineRun.of("eval", "--model", model.toString(), "--samples", "1", "--families", "ocr,text_string",
                "--max-new-tokens", "4").expect(0).out();
        assertTrue(table.contains("ocr") && table.contains("text_string") && !table.contains("counting"), table);
    }

    @Test
    void trainRunsAStageOnTheWorldAndTheNextFromItsModelAndResumes() throws Exception {
        Path run1 = dir.resolve("s1");
        TrainCommandTest.train("--arch", "h", "--stage", "1", "--no-backbones", "--steps", "2", "--batch", "2", "--lr", "1e-3",
                "--beta2", "0.97", "--questions", "2", "--out", run1.toString(), "--progress", "off").expect(0);
        StageConfig s1 = StageConfig.fromJson(Files.readString(run1.resolve(Trainer.STAGE_FILE)), "stage.json");
        assertEquals(2, s1.totalSteps());
        assertEquals(0.97, s1.beta2());
        assertEquals(1e-3, s1.peakLr());
        assertEquals(DataSpec.world(1, 2), DataSpec.read(run1));
        Path run2 = dir.resolve("s2");
        TrainCommandTest.train("--from", run1.resolve("model").toString(), "--stage", "2", "--steps", "3", "--batch", "2",
                "--text-ratio", "0.5", "--checkpoint-every", "1", "--out", run2.toString(), "--progress", "off").expect(0);
        assertEquals(0.5, StageConfig.fromJson(Files.readString(run2.resolve(Trainer.STAGE_FILE)), "stage.json").textOnlyRatio());
        byte[] finished = Files.readAllBytes(run2.resolve("model/model.safetensors"));
        assertEquals(3, MetricsLog.read(run2.resolve(MetricsLog.FILE)).size());
        TrainCommandTest.train("--resume", run2.toString(), "--progress", "off").expect(0);
        assertTrue(java.util.Arrays.equals(finished, Files.readAllBytes(run2.resolve("model/model.safetensors"))));
        String err = TrainCommandTest.train("--from", run1.resolve("model").toString(), "--arch", "d", "--stage", "2", "--out",
                dir.resolve("x").toString()).expect(Main.USAGE_ERROR).err();
        assertTrue(err.contains("--arch d but ") && err.contains("holds an NVLM-H model"), err);
    }
}
