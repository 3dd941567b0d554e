package nvlm.trainer.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import nvlm.comm.MpiRanks;
import nvlm.comm.SingleProcess;
import nvlm.model.config.LlmConfig;
import nvlm.model.llm.LanguageModel;
import org.junit.jupiter.api.Test;

class TensorParallelTest {
    @Test
    void twoRanksOfTheShardedDecoderGiveTheWholeModelsLossAndGradients() throws Exception {
        MpiRanks.Result r = MpiRanks.run(2, TensorParallelCheck.class.getName(), List.of(), 180);
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("ok rank 0 of 2") && r.output().contains("ok rank 1 of 2"), r.output());
    }

    @Test
    void oneRankIsTheWholeModel() {
        assertEquals(List.of(), TensorParallelCheck.check(SingleProcess.INSTANCE, false));
    }

    @Test
    void crossAttentionBlocksAreRefusedByName() {
        LanguageModel x = new LanguageModel(new LlmConfig(32, 2, 4, 2, 48, 64, 1e-6, 1e6, false), 1, new SplittableRandom(1));
        var e = assertThrows(IllegalArgumentException.class, () -> new TensorParallelLanguageModel(SingleProcess.INSTANCE, x));
        assertTrue(e.getMessage().contains("cross-attention"), e.getMessage());
    }
}
