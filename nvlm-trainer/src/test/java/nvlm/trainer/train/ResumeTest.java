package nvlm.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import nvlm.model.Batch;
import nvlm.model.config.Architecture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import nvlm.trainer.recipe.Stage;
import nvlm.trainer.recipe.StageConfig;
import nvlm.trainer.recipe.PaperRecipe;

/** {@code --resume} continues bit-identically: 2N steps == N steps, checkpoint, fresh objects, N more steps. */
class ResumeTest {
    private static final int N = 3;

    @TempDir
    Path dir;

    private static StageConfig config(Architecture arch, Stage stage) {
        // Warmup inside the first half, so the resumed half runs on the cosine part of the schedule;
        // tight clipping so the clipped path is exercised too.
        return PaperRecipe.toy(arch, stage).withSteps(2 * N, 2).withBatch(2, 2).withLearningRates(1e-2, 1e-3).withClipNorm(0.5);
    }

    static Stream<Arguments> runs() {
        // D in stage 2 is covered by the stop-request test below.
        return Stream.of(Arguments.of(Architecture.D, Stage.PRETRAINING), Arguments.of(Architecture.X, Stage.PRETRAINING),
                Arguments.of(Architecture.H, Stage.SFT));
    }

    /** A source whose step {@code failAt} throws, like a process killed mid-step. */
    private record FailingSource(BatchSource inner, long failAt) implements BatchSource {
        @Override
        public Batch batch(long step, int microStep) {
            if (step == failAt) {
                throw new IllegalStateException("simulated crash at step " + step);
            }
            return inner.batch(step, microStep);
        }
    }

    /** Train records without the wall-clock fields, which are all a resumed run may change. */
    private static List<Map<String, Object>> trainRecords(Path run) throws Exception {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> r : MetricsLog.read(run.resolve(MetricsLog.FILE))) {
            Map<String, Object> m = new LinkedHashMap<>(r);
            m.remove("seconds");
            m.remove("samples_per_s");
            m.remove("tokens_per_s");
            out.add(m);
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("runs")
    void twoNStepsEqualNStepsThenResumeForN(Architecture arch, Stage stage) throws Exception {
        StageConfig config = config(arch, stage);
        Path straight = dir.resolve("straight");
        Trainer reference = Trainer.start(TinyWorld.model(arch, 3), config, TinyWorld.source(arch, 5, 2), straight,
                TrainerOptions.quiet(0));
        reference.run();

        Path resumed = dir.resolve("resumed");
        Trainer first = Trainer.start(TinyWorld.model(arch, 3), config, new FailingSource(TinyWorld.source(arch, 5, 2), N + 2),
                resumed, TrainerOptions.quiet(N));
        IllegalStateException crash = assertThrows(IllegalStateException.class, first::run);
        assertTrue(crash.getMessage().contains("simulated crash"), crash.getMessage());
        assertEquals(N + 1, first.step(), "the first half ran one step past its checkpoint before the crash");
        assertEquals(List.of(TrainingCheckpoint.folder(resumed, N)), TrainingCheckpoint.list(resumed));

        // Fresh objects, as a new process would build them: model, optimizer and source from scratch.
        Trainer second = Trainer.resume(resumed, TinyWorld.source(arch, 5, 2), TrainerOptions.quiet(N));
        assertEquals(N, second.step());
        TrainResult result = second.run();
        assertEquals(TrainResult.Status.COMPLETED, result.status());
        assertEquals(2 * N, result.step());

        assertEquals(List.of(), TinyWorld.differing(TinyWorld.snapshot(reference.model()), TinyWorld.snapshot(second.model())),
                "parameters differing after resume");
        assertEquals(List.of(), TinyWorld.differing(TinyWorld.optimizerSnapshot(reference), TinyWorld.optimizerSnapshot(second)),
                "optimizer state differing after resume");
        // The metrics log was cut back to the checkpoint: step N+1 of the crashed run appears once.
        assertEquals(trainRecords(straight), trainRecords(resumed));
        // The final model folders hold the same bytes too.
        assertEquals(Files.mismatch(straight.resolve("model/model.safetensors"), resumed.resolve("model/model.safetensors")), -1L);
    }

    /** Stops from inside the data source, as Ctrl-C would between micro-batches of step N+1. */
    private static final class StoppingSource implements BatchSource {
        private final BatchSource inner;
        private final long stopAt;
        Trainer trainer;

        StoppingSource(BatchSource inner, long stopAt) {
            this.inner = inner;
            this.stopAt = stopAt;
        }

        @Override
        public Batch batch(long step, int microStep) {
            if (step == stopAt && microStep == 1) {
                trainer.requestStop();
            }
            return inner.batch(step, microStep);
        }
    }

    @Test
    void aStopRequestMidStepAbandonsTheStepSavesAndResumesBitIdentically() throws Exception {
        Architecture arch = Architecture.D;
        StageConfig config = config(arch, Stage.SFT);
        Trainer reference = Trainer.start(TinyWorld.model(arch, 3), config, TinyWorld.source(arch, 5, 2), dir.resolve("straight"),
                TrainerOptions.quiet(0));
        reference.run();

        Path run = dir.resolve("interrupted");
        StoppingSource stopping = new StoppingSource(TinyWorld.source(arch, 5, 2), N + 1);
        Trainer first = Trainer.start(TinyWorld.model(arch, 3), config, stopping, run, TrainerOptions.quiet(0));
        stopping.trainer = first;
        TrainResult interrupted = first.run();
        assertEquals(TrainResult.Status.INTERRUPTED, interrupted.status());
        assertEquals(N, interrupted.step(), "step N+1 was abandoned, not half-applied");
        assertEquals(TrainingCheckpoint.folder(run, N), interrupted.checkpoint());
        assertNull(interrupted.modelDir());
        for (var p : first.trainableParameters().values()) {
            assertNull(p.grad(), "abandoned step left a gradient on " + p.name());
        }

        Trainer second = Trainer.resume(run, TinyWorld.source(arch, 5, 2), TrainerOptions.quiet(0));
        assertEquals(TrainResult.Status.COMPLETED, second.run().status());
        assertEquals(List.of(), TinyWorld.differing(TinyWorld.snapshot(reference.model()), TinyWorld.snapshot(second.model())));
        assertEquals(List.of(), TinyWorld.differing(TinyWorld.optimizerSnapshot(reference), TinyWorld.optimizerSnapshot(second)));
    }

    @Test
    void startingInAFolderThatHoldsCheckpointsIsRefused() throws Exception {
        Architecture arch = Architecture.D;
        StageConfig config = config(arch, Stage.PRETRAINING).withSteps(1, 0);
        Path run = dir.resolve("run");
        Trainer.start(TinyWorld.model(arch, 3), config, TinyWorld.source(arch, 5, 2), run, TrainerOptions.quiet(0)).run();
        IllegalStateException e = assertThrows(IllegalStateException.class, () ->
                Trainer.start(TinyWorld.model(arch, 3), config, TinyWorld.source(arch, 5, 2), run, TrainerOptions.quiet(0)));
        assertTrue(e.getMessage().contains("step-00000001") && e.getMessage().contains("resume"), e.getMessage());
        IllegalStateException nothing = assertThrows(IllegalStateException.class, () ->
                Trainer.resume(dir.resolve("empty"), TinyWorld.source(arch, 5, 2), TrainerOptions.quiet(0)));
        assertTrue(nothing.getMessage().contains("nothing to resume"), nothing.getMessage());
    }
}
