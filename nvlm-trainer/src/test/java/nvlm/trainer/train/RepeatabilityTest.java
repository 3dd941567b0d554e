package nvlm.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nvlm.model.config.Architecture;
import nvlm.tensor.MemoryScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nvlm.trainer.recipe.Stage;
import nvlm.trainer.recipe.StageConfig;
import nvlm.trainer.recipe.PaperRecipe;

/**
 * The same step computes the same bits however warm the JIT is. A resumed process starts cold
 * while the uninterrupted run it must match was warm at that step, so any kernel whose result
 * changes when C2 compiles it (e.g. {@code reduceLanes(ADD)} on floats, whose intrinsic reorders
 * the additions) breaks bit-identical resume. The first repetitions run interpreted or in C1,
 * the later ones in C2.
 */
class RepeatabilityTest {
    private static final int REPETITIONS = 20;

    @TempDir
    Path dir;

    @Test
    void aStepGivesTheSameBitsColdAndAfterJitCompilation() throws Exception {
        Architecture arch = Architecture.X;
        StageConfig config = PaperRecipe.toy(arch, Stage.SFT).withBatch(2, 2);
        Map<String, byte[]> first = null;
        for (int rep = 0; rep < REPETITIONS; rep++) {
            Trainer trainer = Trainer.start(TinyWorld.model(arch, 6), config, TinyWorld.source(arch, 8, 2),
                    dir.resolve("run" + rep), TrainerOptions.quiet(0));
            Map<String, byte[]> bits = new LinkedHashMap<>();
            try (var _ = MemoryScope.open()) {
                Trainer.Accumulated acc = trainer.accumulateGradients(1);
                bits.put("loss", Double.toString(acc.loss()).getBytes());
                trainer.trainableParameters().forEach((name, p) -> bits.put(name, p.grad().toBytes()));
            }
            if (first == null) {
                first = bits;
            } else {
                List<String> differing = TinyWorld.differing(first, bits);
                if (!differing.isEmpty()) {
                    throw new AssertionError("repetition " + rep + " differs from the first in " + differing.size()
                            + " of " + bits.size() + " values, e.g. " + differing.subList(0, Math.min(3, differing.size())));
                }
            }
        }
        assertEquals(true, first.values().stream().anyMatch(b -> !Arrays.equals(b, new byte[b.length])));
    }
}
