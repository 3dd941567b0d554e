package nvlm.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import nvlm.model.Batch;
import nvlm.model.Nvlm;
import nvlm.tensor.Tensor;
import nvlm.tensor.F;
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

    /**
     * NVLM-X's stage 2 with the LLM frozen (the paper's Table 9) trains only the cross-attention
     * blocks and the projector, which a text-only batch never reaches: its loss has no gradient.
     * Such a step must run (the loss is still measured) and move nothing, as PyTorch's AdamW
     * skips a parameter whose gradient is None.
     */
    @org.junit.jupiter.api.Test
    void aTextOnlyStepOfNvlmXWithTheLlmFrozenMovesNothing() throws Exception {
        Nvlm model = TinyWorld.model(Architecture.X, 7);
        Map<String, byte[]> before = TinyWorld.snapshot(model);
        TinyWorld.Source images = TinyWorld.source(Architecture.X, 11, 2);
        BatchSource textOnly = (step, micro) -> textOnly(images.batch(step, micro));
        Trainer trainer = Trainer.start(model, config(Architecture.X, Stage.SFT).withFrozenLlm(true), textOnly,
                dir.resolve("x-frozen-text"), TrainerOptions.quiet(0));
        assertTrue(trainer.trainableParameters().keySet().stream().allMatch(n -> n.startsWith("mlp1.") || n.contains(".xattn_layers.")),
                "trainable with the LLM frozen: " + trainer.trainableParameters().keySet());
        TrainResult result = trainer.run();
        assertEquals(TrainResult.Status.COMPLETED, result.status());
        assertEquals(List.of(), TinyWorld.differing(before, TinyWorld.snapshot(model)), "nothing reaches a text-only loss");
    }

    /** {@code b} without its image: the question and answer tokens only, media indices all -1. */
    private static Batch textOnly(Batch b) {
        long[] ids = b.inputIds().toLongArray();
        long[] labels = b.labels().toLongArray();
        int rows = (int) b.inputIds().size(0);
        int length = (int) b.inputIds().size(1);
        long[] outIds = new long[ids.length];
        long[] outLabels = new long[ids.length];
        java.util.Arrays.fill(outIds, TinyWorld.PAD);
        java.util.Arrays.fill(outLabels, F.IGNORE_INDEX);
        for (int r = 0; r < rows; r++) {
            int t = 0;
            for (int i = 0; i < length; i++) {
                int at = r * length + i;
                boolean image = ids[at] == TinyWorld.IMAGE_START || ids[at] == TinyWorld.IMAGE_END || ids[at] == TinyWorld.IMAGE_CONTEXT
                        || (ids[at] >= TinyWorld.FIRST_TAG && ids[at] <= TinyWorld.THUMBNAIL_TAG);
                if (!image && ids[at] != TinyWorld.PAD) {
                    outIds[r * length + t] = ids[at];
                    outLabels[r * length + t] = labels[at];
                    t++;
                }
            }
        }
        long[] none = new long[ids.length];
        java.util.Arrays.fill(none, -1);
        int size = (int) b.pixelValues().size(2);
        return new Batch(Tensor.of(outIds, rows, length), Tensor.of(outLabels, rows, length), Tensor.of(new float[0], 0, 3, size, size),
                Tensor.of(new long[0], 0), Tensor.of(new long[0], 0), Tensor.of(new long[0], 0, 1), Tensor.of(none, rows, length),
                Tensor.of(none.clone(), rows, length));
    }
}
