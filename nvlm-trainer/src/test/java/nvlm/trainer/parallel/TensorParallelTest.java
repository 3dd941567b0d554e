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
        assertEquals(List.of(), TensorParallelCheck.check(SingleProcess.INSTANCE, false, 0));
        assertEquals(List.of(), TensorParallelCheck.check(SingleProcess.INSTANCE, false, 1));
    }

    @Test
    void aSizeThatDoesNotDivideTheHeadsIsRefusedByName() {
        LanguageModel d = new LanguageModel(new LlmConfig(36, 1, 3, 1, 48, 64, 1e-6, 1e6, false), 0, new SplittableRandom(1));
        var e = assertThrows(IllegalArgumentException.class, () -> new TensorParallelLanguageModel(new GroupOfTwo(), d));
        assertTrue(e.getMessage().contains("llm.num_heads (3)"), e.getMessage());
    }

    /** Only the size is read before the check fails. */
    private static final class GroupOfTwo implements nvlm.comm.Communicator {
        public int rank() {
            return 0;
        }

        public int size() {
            return 2;
        }

        public void allReduce(nvlm.tensor.Tensor t, nvlm.comm.Reduction op) {
            throw new UnsupportedOperationException();
        }

        public void allReduce(double[] values, nvlm.comm.Reduction op) {
            throw new UnsupportedOperationException();
        }

        public nvlm.tensor.Tensor reduceScatter(nvlm.tensor.Tensor input) {
            throw new UnsupportedOperationException();
        }

        public nvlm.tensor.Tensor allGather(nvlm.tensor.Tensor input) {
            throw new UnsupportedOperationException();
        }

        public void broadcast(nvlm.tensor.Tensor t, int root) {
            throw new UnsupportedOperationException();
        }

        public void barrier() {
            throw new UnsupportedOperationException();
        }

        public nvlm.comm.Communicator split(int color, int key) {
            throw new UnsupportedOperationException();
        }

        public void abort(String message, int exitCode) {
            throw new UnsupportedOperationException();
        }

        public void close() {
        }
    }
}
