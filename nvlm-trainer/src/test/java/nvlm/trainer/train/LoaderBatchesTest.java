package nvlm.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import nvlm.model.Batch;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.model.tokenizer.ProjectTokenizer;
import nvlm.trainer.data.DataLoader;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.TaskBlend;
import nvlm.trainer.data.WorldConfig;
import nvlm.trainer.data.WorldDataset;
import org.junit.jupiter.api.Test;

class LoaderBatchesTest {
    private static DataLoader loader() {
        NvlmConfig config = Presets.get("tiny", Architecture.D);
        WorldDataset data = new WorldDataset(new SyntheticWorld(WorldConfig.forModel(config, 1)), Split.TRAIN, TaskBlend.stage2(0.3), 10);
        return new DataLoader(data, SampleEncoder.forConfig(config, ProjectTokenizer.instance(), SampleEncoder.Options.defaults()), 2, 2, 5);
    }

    @Test
    void theBatchOfAStepIsAPureFunctionOfTheStepWhateverTheOrderAndPrefetching() {
        // 10 examples in batches of 2: 5 per epoch; 2 micro-batches per step, so step 4 crosses into epoch 1.
        try (LoaderBatches inOrder = new LoaderBatches(loader(), 2); LoaderBatches backwards = new LoaderBatches(loader(), 2)) {
            Batch[][] first = new Batch[6][2];
            for (int s = 1; s <= 5; s++) {
                for (int m = 0; m < 2; m++) {
                    first[s][m] = inOrder.batch(s, m);
                }
            }
            for (int s = 5; s >= 1; s--) {
                for (int m = 1; m >= 0; m--) {
                    Batch again = backwards.batch(s, m);
                    assertArrayEquals(first[s][m].inputIds().toLongArray(), again.inputIds().toLongArray(), "step " + s + "." + m);
                    assertArrayEquals(first[s][m].pixelValues().toFloatArray(), again.pixelValues().toFloatArray());
                }
            }
            DataLoader plain = loader();
            assertArrayEquals(plain.batch(1, 3).tensors().inputIds().toLongArray(), first[5][0].inputIds().toLongArray(),
                    "micro-batch 8 of the run is batch 3 of epoch 1");
            assertThrows(IllegalArgumentException.class, () -> inOrder.batch(1, 2));
            assertThrows(IllegalArgumentException.class, () -> inOrder.batch(0, 0));
        }
    }
}
