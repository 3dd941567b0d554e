package nvlm.trainer.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import nvlm.model.config.Architecture;
import nvlm.trainer.recipe.Stage;
import nvlm.trainer.recipe.StageConfig;
import org.junit.jupiter.api.Test;
import nvlm.trainer.recipe.StageRecipe;
import nvlm.trainer.recipe.StageOverrides;

class StageOverridesTest {
    private static final StageConfig DEMO_SFT = StageRecipe.DEMO.stage(Architecture.D, Stage.SFT, 1);

    private static StageOverrides none(long seed) {
        return new StageOverrides(null, null, null, null, null, null, null, null, null, null, null, null, seed);
    }

    @Test
    void nothingGivenKeepsTheRecipeWithWarmupATenthOfTheStepsAndTheSeedGiven() {
        StageConfig c = none(7).applyTo(DEMO_SFT);
        assertEquals(DEMO_SFT.totalSteps(), c.totalSteps());
        assertEquals(Math.max(1, DEMO_SFT.totalSteps() / 10), c.warmupSteps());
        assertEquals(DEMO_SFT.peakLr(), c.peakLr());
        assertEquals(DEMO_SFT.minLr(), c.minLr(), 1e-18);
        assertEquals(DEMO_SFT.textOnlyRatio(), c.textOnlyRatio());
        assertEquals(7, c.seed());
    }

    @Test
    void aNewPeakKeepsTheRecipesMinToPeakRatioUnlessTheMinimumIsGivenToo() {
        StageOverrides peak = new StageOverrides(40, null, 1e-3, null, null, 0.97, null, null, 0.5, 4, 2, 0.3, 1);
        StageConfig c = peak.applyTo(DEMO_SFT);
        assertEquals(1e-3 * DEMO_SFT.minLr() / DEMO_SFT.peakLr(), c.minLr(), 1e-18);
        assertEquals(4, c.warmupSteps());
        assertEquals(0.97, c.beta2());
        assertEquals(0.5, c.clipNorm());
        assertEquals(8, c.globalBatchSize());
        assertEquals(0.3, c.textOnlyRatio());
        StageOverrides both = new StageOverrides(null, null, 1e-3, 2e-5, null, null, null, null, null, null, null, null, 1);
        assertEquals(2e-5, both.applyTo(DEMO_SFT).minLr());
    }

    @Test
    void anImpossibleResultNamesTheSetting() {
        StageOverrides late = new StageOverrides(10, 20, null, null, null, null, null, null, null, null, null, null, 1);
        String message = assertThrows(IllegalArgumentException.class, () -> late.applyTo(DEMO_SFT)).getMessage();
        assertTrue(message.contains("warmup_steps"), message);
    }
}
