package nvlm.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import nvlm.model.Batch;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.Architecture;
import nvlm.tensor.Device;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;
import nvlm.trainer.report.TrainingReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nvlm.trainer.recipe.Stage;
import nvlm.trainer.recipe.PaperRecipe;

/** Stage 1, then stage 2 from its model folder, with evaluation, progress and the report: what a user sees. */
class PipelineTest {
    @TempDir
    Path dir;

    /** Next-token accuracy over the labelled tokens of a held-out batch (a real, if crude, evaluation). */
    static Map<String, Double> nextTokenAccuracy(Nvlm model, Batch heldOut) {
        Tensor logits = model.forward(heldOut).logits();
        long rows = heldOut.rows();
        long length = heldOut.length();
        long[] labels = heldOut.labels().toLongArray();
        long[] predicted = logits.argmax(2, false).toLongArray();
        int right = 0;
        int total = 0;
        for (int r = 0; r < rows; r++) {
            for (int t = 1; t < length; t++) {
                long label = labels[(int) (r * length + t)];
                if (label != F.IGNORE_INDEX) {
                    total++;
                    right += predicted[(int) (r * length + t - 1)] == label ? 1 : 0;
                }
            }
        }
        return Map.of("next_token", (double) right / total);
    }

    @Test
    void twoStagesWithEvaluationProgressMetricsAndReport() throws Exception {
        Architecture arch = Architecture.D;
        Batch heldOut = TinyWorld.source(arch, 99, 4).batch(1, 0);
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        TrainerOptions options = TrainerOptions.quiet(2)
                .withProgress(ProgressBar.Mode.LINES, new PrintStream(progress, true, StandardCharsets.UTF_8), 2)
                .withEvaluator(model -> nextTokenAccuracy(model, heldOut), 2);

        Path stage1 = dir.resolve("stage1");
        TrainResult r1 = Trainer.start(TinyWorld.model(arch, 1), PaperRecipe.toy(arch, Stage.PRETRAINING).withSteps(4, 1).withBatch(2, 2),
                TinyWorld.source(arch, 1, 2), stage1, options).run();
        assertEquals(TrainResult.Status.COMPLETED, r1.status());
        assertEquals(stage1.resolve(Trainer.MODEL_DIR), r1.modelDir());

        Nvlm fromStage1 = Checkpoint.load(r1.modelDir(), Device.CPU);
        Path stage2 = dir.resolve("stage2");
        Trainer t2 = Trainer.start(fromStage1, PaperRecipe.toy(arch, Stage.SFT).withSteps(4, 1).withBatch(2, 2),
                TinyWorld.source(arch, 2, 2), stage2, options);
        TrainResult r2 = t2.run();
        assertEquals(TrainResult.Status.COMPLETED, r2.status());

        String shown = progress.toString(StandardCharsets.UTF_8);
        assertTrue(shown.contains("stage 1 (NVLM-D): training projector (mlp1)"), shown);
        assertTrue(shown.contains("stage 2 (NVLM-D): training projector (mlp1) and the whole LLM"), shown);
        for (String part : List.of("stage 1  2/4", "stage 1  4/4", "stage 2  4/4", "loss ", "lr ", "tok/s", "samples/s", "ETA ",
                "stage 2 done: 4 steps")) {
            assertTrue(shown.contains(part), "progress shows '" + part + "':\n" + shown);
        }

        List<Map<String, Object>> metrics = MetricsLog.read(stage2.resolve(MetricsLog.FILE));
        List<Map<String, Object>> train = metrics.stream().filter(m -> "train".equals(m.get("type"))).toList();
        assertEquals(4, train.size());
        for (String field : List.of("stage", "step", "loss", "lr", "grad_norm", "tokens", "labelled_tokens", "samples", "seconds",
                "samples_per_s", "tokens_per_s")) {
            assertTrue(train.getFirst().containsKey(field), "train record has " + field + ": " + train.getFirst());
        }
        assertEquals(2L, train.getFirst().get("stage"));
        List<Map<String, Object>> evals = metrics.stream().filter(m -> "eval".equals(m.get("type"))).toList();
        assertEquals(List.of(2L, 4L), evals.stream().map(m -> m.get("step")).toList());
        assertEquals(t2.lastEvaluation().get("next_token"), ((Map<?, ?>) evals.getLast().get("accuracy")).get("next_token"));

        Path report = TrainingReport.write(dir.resolve("report"), "pipeline", List.of(
                TrainingReport.StageRun.fromRunFolder("stage 1", stage1, Map.of()),
                TrainingReport.StageRun.fromRunFolder("stage 2", stage2, t2.lastEvaluation())));
        assertTrue(Files.readString(report).contains("<td>next_token</td>"));
        for (String png : List.of(TrainingReport.LOSS_PNG, TrainingReport.LR_PNG, TrainingReport.ACCURACY_PNG)) {
            assertTrue(ImageIO.read(dir.resolve("report").resolve(png).toFile()).getWidth() > 0, png);
        }
    }
}
