package nvlm.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import nvlm.model.Batch;
import nvlm.model.config.Architecture;
import nvlm.tensor.Device;
import nvlm.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nvlm.trainer.recipe.Stage;
import nvlm.trainer.recipe.StageConfig;
import nvlm.trainer.recipe.PaperRecipe;

/** A NaN loss stops training with a message naming the step, and the last good checkpoint stays the newest. */
class DivergenceTest {
    @TempDir
    Path dir;

    /** Step {@code poisoned}'s first micro-batch gets NaN pixels: NVLM-D places them in the sequence, so the loss is NaN. */
    private record PoisonedSource(BatchSource inner, long poisoned) implements BatchSource {
        @Override
        public Batch batch(long step, int microStep) {
            Batch b = inner.batch(step, microStep);
            if (step != poisoned || microStep != 0) {
                return b;
            }
            float[] pixels = new float[Math.toIntExact(b.pixelValues().numel())];
            Arrays.fill(pixels, Float.NaN);
            return new Batch(b.inputIds(), b.labels(), Tensor.of(pixels, b.pixelValues().shape()), b.imageTiles(), b.imageRow(),
                    b.tileTagIds(), b.mediaImage(), b.mediaTile());
        }
    }

    @Test
    void aNanLossStopsWithTheStepNamedAndKeepsTheLastGoodCheckpoint() throws Exception {
        Architecture arch = Architecture.D;
        StageConfig config = PaperRecipe.toy(arch, Stage.PRETRAINING).withSteps(8, 1).withBatch(2, 2);
        Path run = dir.resolve("run");
        Trainer trainer = Trainer.start(TinyWorld.model(arch, 1), config, new PoisonedSource(TinyWorld.source(arch, 2, 2), 5),
                run, TrainerOptions.quiet(2));
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, trainer::run);

        assertEquals(5, e.step());
        assertEquals("loss", e.quantity());
        assertTrue(Double.isNaN(e.value()));
        Path good = TrainingCheckpoint.folder(run, 4);
        assertEquals(good, e.lastGoodCheckpoint());
        assertTrue(e.getMessage().contains("step 5") && e.getMessage().contains("NaN") && e.getMessage().contains(good.toString()),
                e.getMessage());
        // Nothing was written for the bad step; the two newest good checkpoints are kept.
        assertEquals(List.of(TrainingCheckpoint.folder(run, 2), good), TrainingCheckpoint.list(run));
        assertEquals(4, trainer.step());
        // The optimizer never saw step 5: the model in memory is exactly the checkpoint's.
        assertEquals(List.of(), TinyWorld.differing(TinyWorld.snapshot(TrainingCheckpoint.readModel(good, Device.CPU)),
                TinyWorld.snapshot(trainer.model())));
        assertEquals(4, trainer.optimizer().stepCount());

        List<Map<String, Object>> records = MetricsLog.read(run.resolve(MetricsLog.FILE));
        Map<String, Object> last = records.getLast();
        assertEquals("stop", last.get("type"));
        assertEquals("diverged", last.get("reason"));
        assertEquals(4L, last.get("step"));
        assertEquals(4, records.stream().filter(r -> "train".equals(r.get("type"))).count());

        // The kept checkpoint is usable: resuming with healthy data runs to the end.
        Trainer resumed = Trainer.resume(run, TinyWorld.source(arch, 2, 2), TrainerOptions.quiet(2));
        assertEquals(TrainResult.Status.COMPLETED, resumed.run().status());
        assertEquals(8, resumed.step());
    }

    @Test
    void aNanBeforeAnyCheckpointSaysSo() throws Exception {
        Architecture arch = Architecture.D;
        StageConfig config = PaperRecipe.toy(arch, Stage.PRETRAINING).withSteps(4, 1).withBatch(2, 1);
        Trainer trainer = Trainer.start(TinyWorld.model(arch, 1), config, new PoisonedSource(TinyWorld.source(arch, 2, 2), 1),
                dir.resolve("early"), TrainerOptions.quiet(2));
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, trainer::run);
        assertEquals(1, e.step());
        assertTrue(e.getMessage().contains("No checkpoint was written yet"), e.getMessage());
        assertEquals(List.of(), TrainingCheckpoint.list(dir.resolve("early")));
    }
}
