package nvlm.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import nvlm.model.Nvlm;
import nvlm.model.config.Architecture;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import nvlm.trainer.recipe.Stage;
import nvlm.trainer.recipe.StageConfig;
import nvlm.trainer.recipe.PaperRecipe;

/** docs/model.md §11: which parts each stage trains, checked on the bits of every parameter after a short run. */
class StageFreezingTest {
    private static final int STEPS = 3;

    @TempDir
    Path dir;

    private static StageConfig config(Architecture arch, Stage stage) {
        return PaperRecipe.toy(arch, stage).withSteps(STEPS, 1).withBatch(2, 2).withLearningRates(1e-2, 1e-3);
    }

    /** Runs a stage and returns the names of the parameters that changed (bit-wise). */
    private Set<String> changedAfter(Architecture arch, Stage stage, Set<String> expectedTrainable) throws Exception {
        Nvlm model = TinyWorld.model(arch, 7);
        Map<String, byte[]> before = TinyWorld.snapshot(model);
        Trainer trainer = Trainer.start(model, config(arch, stage), TinyWorld.source(arch, 11, 2),
                dir.resolve(arch + "-" + stage), TrainerOptions.quiet(0));
        assertEquals(expectedTrainable, trainer.trainableParameters().keySet(), "trainable parameters of " + arch + " " + stage);
        TrainResult result = trainer.run();
        assertEquals(TrainResult.Status.COMPLETED, result.status());
        return new TreeSet<>(TinyWorld.differing(before, TinyWorld.snapshot(model)));
    }

    private static Set<String> names(Nvlm model, List<String> prefixes) {
        Set<String> out = new TreeSet<>();
        for (String name : model.namedParameters().keySet()) {
            if (prefixes.stream().anyMatch(name::startsWith)) {
                out.add(name);
            }
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void stage1FreezesVisionAndLlmAndTrainsOnlyTheProjectorAndCrossAttention(Architecture arch) throws Exception {
        Nvlm shape = TinyWorld.model(arch, 7);
        List<String> trained = arch == Architecture.D ? List.of("mlp1.")
                : List.of("mlp1.", "language_model.model.xattn_layers.");
        Set<String> expected = names(shape, trained);
        assertFalse(expected.isEmpty());
        Set<String> changed = changedAfter(arch, Stage.PRETRAINING, expected);
        // Frozen: every vision and (non-cross-attention) LLM parameter keeps its exact bits;
        // trained: every trainable parameter moved.
        assertEquals(expected, changed, "parameters changed by stage 1 of " + arch);
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void stage2FreezesOnlyTheVisionEncoder(Architecture arch) throws Exception {
        Nvlm shape = TinyWorld.model(arch, 7);
        Set<String> expected = names(shape, List.of("mlp1.", "language_model."));
        Set<String> changed = changedAfter(arch, Stage.SFT, expected);
        Set<String> vision = names(shape, List.of("vision_model."));
        assertFalse(vision.isEmpty());
        assertTrue(changed.stream().noneMatch(vision::contains), "vision parameters changed in stage 2: " + changed);
        assertEquals(expected, changed, "parameters changed by stage 2 of " + arch);
    }
}
