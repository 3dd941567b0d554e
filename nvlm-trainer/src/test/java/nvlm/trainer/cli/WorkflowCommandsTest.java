package nvlm.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
import nvlm.trainer.train.StageConfig;
import nvlm.trainer.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** eval, demo, pretrain-backbones and train on the world: their flags, their errors, and what they write. */
class WorkflowCommandsTest {
    @TempDir
    Path dir;

    private static void assertExplains(String help, List<String> flags) {
        for (String flag : flags) {
            assertTrue(help.contains("--" + flag + " "), "--help explains --" + flag + ":\n" + help);
        }
    }

    @Test
    void helpExplainsEveryFlagOfEachCommand() {
        assertExplains(EvalCommand.USAGE, List.of("model", "split", "json", "samples", "text-samples", "families", "view", "world-seed",
                "show", "max-new-tokens", "device", "help"));
        assertExplains(DemoCommand.USAGE, List.of("arch", "out", "seed", "backbones", "stage1-steps", "stage2-steps", "samples",
                "text-samples", "progress", "help"));
        assertExplains(PretrainBackbonesCommand.USAGE, List.of("seed", "out", "text-steps", "vision-steps", "eval-samples", "verify",
                "progress", "help"));
        for (String command : List.of("eval", "demo", "pretrain-backbones", "train")) {
            assertEquals(0, Main.run(List.of(command, "--help")), command + " is registered with ./nvlm");
        }
    }

    @Test
    void mistakesAreUsageErrorsNamingTheFlag() {
        EvalCommand eval = new EvalCommand(new PrintStream(new ByteArrayOutputStream()));
        assertTrue(assertThrows(UsageException.class, () -> eval.run(List.of("--split", "test"))).getMessage().contains("--model"));
        assertTrue(assertThrows(UsageException.class, () -> eval.run(List.of("--model", "m", "--split", "dev"))).getMessage()
                .contains("--split must be train, validation or test"));
        assertTrue(assertThrows(UsageException.class, () -> eval.run(List.of("--model", "m", "--families", "caption"))).getMessage()
                .contains("caption is not scored"));
        assertTrue(assertThrows(UsageException.class, () -> eval.run(List.of("--model", "m", "--samples", "-1"))).getMessage()
                .contains("--samples must be >= 0"));
        assertTrue(assertThrows(UsageException.class, () -> eval.run(List.of("--model", "m", "--view", "thumbnail"))).getMessage()
                .contains("--view"));
        DemoCommand demo = new DemoCommand(new PrintStream(new ByteArrayOutputStream()));
        assertTrue(assertThrows(UsageException.class, () -> demo.run(List.of("--arch", "q"))).getMessage().contains("--arch must be d, x or h"));
        assertTrue(assertThrows(UsageException.class, () -> demo.run(List.of("--stage1-steps", "0"))).getMessage().contains("must be >= 1"));
        PretrainBackbonesCommand pretrain = new PretrainBackbonesCommand(new PrintStream(new ByteArrayOutputStream()));
        assertTrue(assertThrows(UsageException.class, () -> pretrain.run(List.of())).getMessage().contains("--seed is required"));
        assertEquals(2, Main.run(List.of("eval", "--model")), "a flag without its value is a usage error");
        assertEquals(2, Main.run(List.of("demo", "--frobnicate")), "an unknown flag is a usage error");
    }

    @Test
    void evalPrintsOneJsonObjectOfAccuracies() throws Exception {
        Path model = dir.resolve("model");
        Checkpoint.save(Nvlm.create(Presets.get("tiny", Architecture.D), new SplittableRandom(1)), model);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        EvalCommand eval = new EvalCommand(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        assertEquals(0, eval.run(List.of("--model", model.toString(), "--json", "--samples", "1", "--max-new-tokens", "4")));
        String printed = bytes.toString(StandardCharsets.UTF_8).strip();
        Map<String, Object> json = Json.parseObject(printed);
        assertEquals(List.of("ocr", "counting", "spatial", "chart", "text_arithmetic", "text_string"), List.copyOf(json.keySet()));
        for (Object v : json.values()) {
            double a = ((Number) v).doubleValue();
            assertTrue(a >= 0 && a <= 1, printed);
        }
        bytes.reset();
        assertEquals(0, eval.run(List.of("--model", model.toString(), "--samples", "1", "--families", "ocr,text_string",
                "--max-new-tokens", "4")));
        String table = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(table.contains("ocr") && table.contains("text_string") && !table.contains("counting"), table);
    }

    @Test
    void trainRunsAStageOnTheWorldAndTheNextFromItsModelAndResumes() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TrainCommand train = new TrainCommand(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        Path run1 = dir.resolve("s1");
        assertEquals(0, train.run(List.of("--arch", "h", "--stage", "1", "--no-backbones", "--steps", "2", "--batch", "2",
                "--lr", "1e-3", "--beta2", "0.97", "--questions", "2", "--out", run1.toString(), "--progress", "off")));
        StageConfig s1 = StageConfig.fromJson(Files.readString(run1.resolve(Trainer.STAGE_FILE)), "stage.json");
        assertEquals(2, s1.totalSteps());
        assertEquals(0.97, s1.beta2());
        assertEquals(1e-3, s1.peakLr());
        assertEquals(DataSpec.world(1, 2), DataSpec.read(run1));
        Path run2 = dir.resolve("s2");
        assertEquals(0, train.run(List.of("--from", run1.resolve("model").toString(), "--stage", "2", "--steps", "3", "--batch", "2",
                "--text-ratio", "0.5", "--checkpoint-every", "1", "--out", run2.toString(), "--progress", "off")));
        assertEquals(0.5, StageConfig.fromJson(Files.readString(run2.resolve(Trainer.STAGE_FILE)), "stage.json").textOnlyRatio());
        byte[] finished = Files.readAllBytes(run2.resolve("model/model.safetensors"));
        assertEquals(3, MetricsLog.read(run2.resolve(MetricsLog.FILE)).size());
        assertEquals(0, train.run(List.of("--resume", run2.toString(), "--progress", "off")));
        assertTrue(java.util.Arrays.equals(finished, Files.readAllBytes(run2.resolve("model/model.safetensors"))));
        assertTrue(assertThrows(UsageException.class, () -> train.run(List.of("--from", run1.resolve("model").toString(), "--arch", "d",
                "--stage", "2", "--out", dir.resolve("x").toString()))).getMessage().contains("holds an NVLM-H model"));
    }
}
