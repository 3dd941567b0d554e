package nvlm.trainer.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import nvlm.tensor.optim.CosineSchedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingReportTest {
    @TempDir
    Path dir;

    /** Metrics records shaped like the trainer's: a decaying loss, a cosine schedule, evaluations every 50 steps. */
    static List<Map<String, Object>> metrics(int stage, int steps, double peak, double startLoss, double endAccuracy) {
        CosineSchedule schedule = new CosineSchedule(peak, peak / 10, steps / 10, steps);
        List<Map<String, Object>> out = new ArrayList<>();
        java.util.SplittableRandom rng = new java.util.SplittableRandom(stage);
        for (int s = 1; s <= steps; s++) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("type", "train");
            r.put("stage", (long) stage);
            r.put("step", (long) s);
            r.put("loss", startLoss * Math.exp(-3.0 * s / steps) + 0.3 + 0.2 * rng.nextDouble());
            r.put("lr", schedule.lr(s));
            r.put("grad_norm", 1.0);
            r.put("tokens", 1000L);
            r.put("samples", 8L);
            r.put("seconds", 0.5);
            out.add(r);
            if (s % 50 == 0) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("type", "eval");
                e.put("stage", (long) stage);
                e.put("step", (long) s);
                double progress = (double) s / steps;
                e.put("accuracy", Map.of("ocr", endAccuracy * progress, "counting", 0.8 * endAccuracy * progress,
                        "text_arithmetic", 0.6));
                out.add(e);
            }
        }
        return out;
    }

    @Test
    void theReportHasDecodablePlotsAndTheEvaluationTable() throws Exception {
        List<TrainingReport.StageRun> stages = List.of(
                new TrainingReport.StageRun("stage 1", metrics(1, 200, 1e-3, 4, 0.5),
                        Map.of("ocr", 0.5, "counting", 0.4, "text_arithmetic", 0.6)),
                new TrainingReport.StageRun("stage 2", metrics(2, 300, 5e-4, 1.5, 0.9),
                        Map.of("ocr", 0.9, "counting", 0.72, "text_arithmetic", 0.58, "text_strings", 0.5)));
        Path html = TrainingReport.write(dir, "NVLM-D demo <tiny>", stages);

        String page = Files.readString(html);
        assertTrue(page.contains("<title>NVLM-D demo &lt;tiny&gt;</title>"), "title escaped");
        for (String png : List.of(TrainingReport.LOSS_PNG, TrainingReport.LR_PNG, TrainingReport.ACCURACY_PNG)) {
            assertTrue(page.contains("<img src=\"" + png + "\""), png + " referenced");
            BufferedImage image = ImageIO.read(dir.resolve(png).toFile());
            assertEquals(900, image.getWidth(), png);
            assertTrue(distinctColors(image) > 20, png + " has real content");
        }
        assertTrue(page.contains("<tr><td>ocr</td><td>50.0%</td><td>90.0%</td></tr>"), page);
        assertTrue(page.contains("<tr><td>text_strings</td><td>-</td><td>50.0%</td></tr>"), page);
        assertTrue(page.indexOf("image tasks") < page.indexOf(">ocr<") && page.indexOf("text-only tasks") < page.indexOf(">text_arithmetic<"),
                "text-only families are listed apart");
        assertTrue(page.contains("<tr><td>stage 2</td><td>300</td>"), page);
        assertFalse(page.contains("http://") || page.contains("https://") || page.contains("<script"), "self-contained");
        if (System.getenv("NVLM_REPORT_KEEP") != null) {
            Path keep = Path.of(System.getenv("NVLM_REPORT_KEEP"));
            Files.createDirectories(keep);
            for (String f : List.of(TrainingReport.HTML, TrainingReport.LOSS_PNG, TrainingReport.LR_PNG, TrainingReport.ACCURACY_PNG)) {
                Files.copy(dir.resolve(f), keep.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    @Test
    void withoutEvaluationsThereIsNoAccuracyPlot() throws Exception {
        TrainingReport.write(dir, "run", List.of(new TrainingReport.StageRun("stage 1",
                metrics(1, 40, 1e-3, 3, 0.5).stream().filter(r -> r.get("type").equals("train")).toList(), Map.of())));
        assertTrue(Files.exists(dir.resolve(TrainingReport.LOSS_PNG)));
        assertFalse(Files.exists(dir.resolve(TrainingReport.ACCURACY_PNG)));
        assertTrue(Files.readString(dir.resolve(TrainingReport.HTML)).contains("No evaluation was given."));
    }

    static int distinctColors(BufferedImage image) {
        java.util.Set<Integer> colors = new java.util.HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 2) {
            for (int x = 0; x < image.getWidth(); x += 2) {
                colors.add(image.getRGB(x, y));
            }
        }
        return colors.size();
    }
}
