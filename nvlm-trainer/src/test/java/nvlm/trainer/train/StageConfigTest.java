package nvlm.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import nvlm.model.config.Architecture;
import nvlm.tensor.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nvlm.trainer.recipe.Stage;
import nvlm.trainer.recipe.StageConfig;
import nvlm.trainer.recipe.PaperRecipe;

class StageConfigTest {
    @TempDir
    Path dir;

    @Test
    void recipeHasThePapersHyperParameters() {
        // docs/model.md §11 (paper Tables 10-11).
        StageConfig d1 = PaperRecipe.paper(Architecture.D, Stage.PRETRAINING);
        assertEquals(1e-4, d1.peakLr());
        assertEquals(2.5e-5, d1.minLr());
        assertEquals(0.9, d1.beta1());
        assertEquals(0.95, d1.beta2());
        assertEquals(0.1, d1.weightDecay());
        assertEquals(10.0, d1.clipNorm());
        StageConfig x1 = PaperRecipe.paper(Architecture.X, Stage.PRETRAINING);
        assertEquals(1e-5, x1.minLr());
        assertEquals(0.95, x1.beta2());
        assertEquals(0.05, x1.weightDecay());
        assertEquals(1.0, x1.clipNorm());
        assertEquals(0.98, PaperRecipe.paper(Architecture.H, Stage.PRETRAINING).beta2());
        StageConfig d2 = PaperRecipe.paper(Architecture.D, Stage.SFT);
        assertEquals(2e-6, d2.peakLr());
        assertEquals(2.5e-7, d2.minLr());
        assertEquals(0.98, d2.beta2());
        StageConfig h2 = PaperRecipe.paper(Architecture.H, Stage.SFT);
        assertEquals(1e-5, h2.peakLr());
        assertEquals(1e-7, h2.minLr());
        assertEquals(0.05, h2.weightDecay());
        assertTrue(h2.textOnlyRatio() > 0, "stage 2 mixes text-only data in");
        assertEquals(0.0, d1.textOnlyRatio());
        // Toy rates keep the paper's min/peak ratio.
        StageConfig toy = PaperRecipe.toy(Architecture.D, Stage.PRETRAINING);
        assertEquals(d1.minLr() / d1.peakLr(), toy.minLr() / toy.peakLr(), 1e-15);
        assertEquals(d1.beta2(), toy.beta2());
    }

    @Test
    void jsonRoundTripsExactly() throws Exception {
        StageConfig c = PaperRecipe.toy(Architecture.H, Stage.SFT).withLearningRates(0.1 + 0.2, 1e-7 / 3).withSeed(-42)
                .withBatch(3, 5).withTextOnlyRatio(0.3);
        Path f = dir.resolve("stage.json");
        Files.writeString(f, Json.writePretty(c.toJson()));
        assertEquals(c, StageConfig.fromJson(Files.readString(f), f.toString()));
    }

    @Test
    void invalidValuesNameTheField() {
        StageConfig c = PaperRecipe.toy(Architecture.D, Stage.PRETRAINING);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.withLearningRates(1e-4, 1e-3));
        assertTrue(e.getMessage().contains("min_lr") && e.getMessage().contains("0.001"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> c.withSteps(10, 11));
        assertTrue(e.getMessage().contains("warmup_steps"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> c.withBatch(4, 0));
        assertTrue(e.getMessage().contains("grad_accumulation"), e.getMessage());
        var json = c.toJson();
        json.put("beta2", "0.9");
        e = assertThrows(IllegalArgumentException.class, () -> StageConfig.fromJson(json, "run/stage.json"));
        assertTrue(e.getMessage().startsWith("run/stage.json: field 'beta2' must be a number"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Stage.of(3));
        assertTrue(e.getMessage().contains("3"), e.getMessage());
    }
}
