package nvlm.trainer.backbone;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.tensor.Tensor;
import nvlm.trainer.train.ProgressBar;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nvlm.trainer.recipe.BackboneRecipe;

class BackbonesTest {
    @TempDir
    Path dir;

    @Test
    void loadingBackbonesCopiesTheVisionEncoderAndTheLlmAndNothingElse() throws Exception {
        Nvlm source = Nvlm.create(Presets.get("tiny", Architecture.D), new SplittableRandom(2));
        Checkpoint.save(source, dir.resolve("bb"));
        for (Architecture arch : Architecture.values()) {
            Nvlm target = Nvlm.create(Presets.get("tiny", arch), new SplittableRandom(3));
            Map<String, Tensor> before = Map.copyOf(target.stateDict());
            Backbones.load(target, dir.resolve("bb"), dir.resolve("bb"));
            Map<String, Tensor> from = source.stateDict();
            target.stateDict().forEach((name, t) -> {
                Tensor expected = Backbones.part(name) != null ? from.get(name) : before.get(name);
                assertArrayEquals(expected.toFloatArray(), t.toFloatArray(), arch + " " + name);
            });
            assertTrue(target.stateDict().keySet().stream().anyMatch(n -> n.startsWith("mlp1.")));
        }
        Nvlm visionOnly = Nvlm.create(Presets.get("tiny", Architecture.D), new SplittableRandom(3));
        Tensor llmBefore = visionOnly.stateDict().get("language_model.model.norm.weight");
        Backbones.load(visionOnly, dir.resolve("bb"), null);
        assertArrayEquals(llmBefore.toFloatArray(), visionOnly.stateDict().get("language_model.model.norm.weight").toFloatArray());
    }

    @Test
    void backbonesOfAnotherShapeAreRefusedByPart() throws Exception {
        Checkpoint.save(Nvlm.create(Presets.get("small", Architecture.D), new SplittableRandom(2)), dir.resolve("small"));
        Nvlm tiny = Nvlm.create(Presets.get("tiny", Architecture.D), new SplittableRandom(3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backbones.load(tiny, dir.resolve("small"), null));
        assertTrue(e.getMessage().contains("vision encoder config"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Backbones.load(tiny, null, dir.resolve("small")));
        assertTrue(e.getMessage().contains("LLM config"), e.getMessage());
    }

    @Test
    void stageZeroIsAPureFunctionOfItsRecipe() throws Exception {
        BackboneRecipe recipe = new BackboneRecipe("tiny", 4, 2, 2, 1e-3, 2, 1, 1e-3, 0.1, 1.0, 0, 0);
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Map<String, Object> a = BackbonePretraining.run(recipe, dir.resolve("a"), quiet, ProgressBar.Mode.OFF);
        Map<String, Object> b = BackbonePretraining.run(recipe, dir.resolve("b"), quiet, ProgressBar.Mode.OFF);
        assertEquals(a.get("weights_sha256"), b.get("weights_sha256"));
        assertEquals(Backbones.sha256(dir.resolve("a").resolve(Backbones.WEIGHTS)), a.get("weights_sha256"));
        assertEquals(recipe.hash(), a.get("recipe_hash"));
        assertEquals(4L, a.get("world_seed"));
        NvlmConfig saved = NvlmConfig.read(dir.resolve("a").resolve(Checkpoint.CONFIG));
        assertEquals(Presets.get("tiny", Architecture.D).vision(), saved.vision());
        assertEquals(Presets.get("tiny", Architecture.D).llm(), saved.llm());
        BackboneRecipe other = recipe.withSeed(5);
        assertFalse(other.hash().equals(recipe.hash()), "the seed is part of the recipe");
    }

    @Test
    void theShippedBackbonesAreTheDefaultRecipesAndTheirWeightsMatchTheManifest() throws Exception {
        if (!Backbones.shipped()) {
            return; // a build without shipped backbones: ./nvlm demo asks for --backbones
        }
        Map<String, Object> manifest = Backbones.shippedManifest();
        long seed = (Long) manifest.get("seed");
        assertEquals(BackboneRecipe.defaults(seed).hash(), manifest.get("recipe_hash"),
                "the default stage-0 recipe changed: make the shipped backbones again (./nvlm pretrain-backbones --seed " + seed
                        + ", then copy config.json, model.safetensors and backbones.json to nvlm-trainer/src/main/resources"
                        + Backbones.SHIPPED_RESOURCE + ")");
        Path extracted = Backbones.extractShipped(dir.resolve("shipped"));
        assertEquals(manifest.get("weights_sha256"), Backbones.sha256(extracted.resolve(Backbones.WEIGHTS)));
        assertTrue(Files.size(extracted.resolve(Backbones.WEIGHTS)) < 10L << 20, "at most 10 MB in the repository");
        assertEquals(Presets.get("tiny", Architecture.D).llm(), NvlmConfig.read(extracted.resolve(Checkpoint.CONFIG)).llm());
        Checkpoint.load(extracted, nvlm.tensor.Device.CPU);
    }
}
