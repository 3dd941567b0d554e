package nvlm.trainer.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.tensor.Device;
import nvlm.tensor.io.Json;
import nvlm.trainer.cli.CommandLineRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** frozen-llm end to end with a few steps: the two arms share stage 1 and differ exactly where the recipe says. */
class FrozenLlmExperimentTest {
    @TempDir
    Path dir;

    @Test
    void theFrozenArmChangesOnlyWhatStageOneTrainsAndTheTrainedArmChangesTheLlm() throws Exception {
        Path bb = ExperimentRunsTest.backbones(dir.resolve("bb"));
        Path out = dir.resolve("runs");
        CommandLineRun run = CommandLineRun.of("experiment", "frozen-llm", "--backbones", bb.toString(), "--seeds", "1",
                "--stage1-steps", "1", "--stage2-steps", "3", "--samples", "1", "--text-samples", "1", "--split", "validation",
                "--out", out.toString(), "--progress", "off", "--json").expect(0);
        Map<String, Object> json = Json.parseObject(run.out().strip());
        assertEquals("x", json.get("arch"));
        for (String arm : List.of("llm_trained", "llm_frozen")) {
            Map<?, ?> stats = (Map<?, ?>) ((Map<?, ?>) json.get(arm)).get("text_mean");
            assertEquals(1L, stats.get("n"), arm);
        }
        assertTrue(run.err().contains("LLM frozen: stage 2"), run.err());

        Map<String, float[]> stage1 = weights(out.resolve("x-seed1").resolve("stage1").resolve("model"));
        Map<String, float[]> trained = weights(out.resolve("x-seed1").resolve("stage2").resolve("model"));
        Map<String, float[]> frozen = weights(out.resolve("x-seed1-frozen-llm").resolve("stage2").resolve("model"));
        boolean trainedMovedTheLlm = false;
        boolean frozenMovedCrossAttention = false;
        for (String name : stage1.keySet()) {
            boolean llm = name.startsWith("language_model.") && !name.contains(".xattn_layers.");
            boolean vision = name.startsWith("vision_model.");
            if (llm || vision) {
                assertArrayEquals(stage1.get(name), frozen.get(name), name + " must not move with the LLM frozen");
                trainedMovedTheLlm |= llm && !Arrays.equals(stage1.get(name), trained.get(name));
            } else if (name.contains(".xattn_layers.")) {
                frozenMovedCrossAttention |= !Arrays.equals(stage1.get(name), frozen.get(name));
            }
        }
        assertTrue(trainedMovedTheLlm, "the recipe's stage 2 trains the LLM");
        assertTrue(frozenMovedCrossAttention, "the frozen arm still trains the cross-attention blocks");
        Map<?, ?> recipe = (Map<?, ?>) Json.parseObject(Files.readString(out.resolve("x-seed1-frozen-llm").resolve(CompareExperiment.RUN_JSON)))
                .get("recipe");
        assertEquals(true, ((Map<?, ?>) recipe.get("stage2")).get("frozen_llm"));
        assertFalse(((Map<?, ?>) ((Map<?, ?>) Json.parseObject(Files.readString(out.resolve("x-seed1").resolve(CompareExperiment.RUN_JSON)))
                .get("recipe")).get("stage2")).containsKey("frozen_llm"), "the recipe's own stage 2 reads as before");

        CommandLineRun again = CommandLineRun.of("experiment", "frozen-llm", "--backbones", bb.toString(), "--seeds", "1",
                "--stage1-steps", "1", "--stage2-steps", "3", "--samples", "1", "--text-samples", "1", "--split", "validation",
                "--out", out.toString(), "--progress", "off").expect(0);
        assertTrue(again.out().contains("X seed 1, LLM frozen in stage 2: trained before"), again.out());
    }

    private static Map<String, float[]> weights(Path folder) throws Exception {
        Nvlm model = Checkpoint.load(folder, Device.CPU);
        Map<String, float[]> out = new java.util.TreeMap<>();
        model.namedParameters().forEach((name, p) -> out.put(name, p.value().toFloatArray()));
        return out;
    }
}
