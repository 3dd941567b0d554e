package nvlm.trainer.pipeline;

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
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.Architecture;
import nvlm.tensor.io.Json;
import nvlm.trainer.backbone.BackbonePretraining;
import nvlm.trainer.recipe.BackboneRecipe;
import nvlm.trainer.eval.EvalResult;
import nvlm.trainer.report.TrainingReport;
import nvlm.trainer.train.ProgressBar;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nvlm.trainer.recipe.DemoRecipe;

/** The demo pipeline end to end with a handful of steps: every file it promises is there and well formed. */
class DemoSmokeTest {
    @TempDir
    Path dir;

    @Test
    void demoRunsBackbonesStageOneStageTwoEvaluationAndReport() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Path backbones = dir.resolve("backbones");
        BackbonePretraining.run(new BackboneRecipe("tiny", 1, 2, 2, 1e-3, 2, 1, 1e-3, 0.1, 1.0, 0, 0), backbones, quiet,
                ProgressBar.Mode.OFF);
        DemoRecipe base = DemoRecipe.of(Architecture.D, 3);
        DemoRecipe recipe = base.withStages(base.stage1().withBatch(2, 1), base.stage2().withBatch(2, 1)).withSteps(2, 2)
                .withEvalSamples(2, 2);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Path out = dir.resolve("demo");
        Demo.Result result = Demo.run(new Demo.Settings(Architecture.D, "tiny", 3, out, backbones, recipe, ProgressBar.Mode.OFF,
                new PrintStream(log, true, StandardCharsets.UTF_8)));
        String printed = log.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("evaluation after SFT") && printed.contains("text-only tasks"), printed);
        assertTrue(printed.contains("report: " + out.resolve(TrainingReport.HTML)), printed);

        Map<String, Double> eval = EvalResult.parseJson(Files.readString(out.resolve(Demo.EVAL_JSON)), "eval.json");
        assertEquals(List.of("ocr", "counting", "spatial", "chart", "text_arithmetic", "text_string"), List.copyOf(eval.keySet()));
        assertEquals(result.evaluation().accuracies(), eval);
        assertTrue(Files.readString(out.resolve(TrainingReport.HTML)).contains("<td>text_string</td>"));
        for (String png : List.of(TrainingReport.LOSS_PNG, TrainingReport.LR_PNG)) {
            assertTrue(ImageIO.read(out.resolve(png).toFile()).getWidth() > 0, png);
        }
        Checkpoint.load(out.resolve(Demo.MODEL_DIR), nvlm.tensor.Device.CPU);
        Map<String, Object> demo = Json.parseObject(Files.readString(out.resolve(Demo.DEMO_JSON)));
        for (String key : List.of("evaluation", "backbone_text", "seconds", "recipe")) {
            assertTrue(demo.containsKey(key), key);
        }
        assertTrue(Files.exists(out.resolve("stage1").resolve(DataSpec.FILE)));

        // A second demo into the same folder replaces its stages.
        Demo.run(new Demo.Settings(Architecture.D, "tiny", 3, out, backbones, recipe.withEvalSamples(1, 1), ProgressBar.Mode.OFF,
                new PrintStream(new ByteArrayOutputStream())));
        assertEquals(eval.keySet(), EvalResult.parseJson(Files.readString(out.resolve(Demo.EVAL_JSON)), "eval.json").keySet());
    }
}
