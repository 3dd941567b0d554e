package nvlm.model;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.prompt.Sample;
import nvlm.tensor.Device;
import nvlm.tensor.Tensor;
import nvlm.tensor.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad checkpoints and batches give one clear error naming what is wrong, and leave nothing half-written. */
class BadInputTest {
    @TempDir
    Path dir;

    private Path savedModel(Architecture arch) throws Exception {
        Nvlm model = Nvlm.create(Fixtures.tiny(arch), new SplittableRandom(1));
        Path folder = dir.resolve("model-" + arch);
        Checkpoint.save(model, folder);
        return folder;
    }

    @Test
    void checkpointMissingATensorOrWithAWrongShapeNamesThemAll() throws Exception {
        Path folder = savedModel(Architecture.D);
        Map<String, Tensor> weights = new LinkedHashMap<>(Safetensors.load(folder.resolve("model.safetensors")));
        weights.remove("mlp1.1.bias");
        weights.put("language_model.model.norm.weight", Tensor.zeros(7));
        weights.put("vision_model.extra", Tensor.zeros(1));
        Safetensors.save(folder.resolve("model.safetensors"), weights);
        var e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(folder, Device.CPU));
        String m = e.getMessage();
        assertTrue(m.contains(folder.toString()), m);
        assertTrue(m.contains("missing (1): mlp1.1.bias"), m);
        assertTrue(m.contains("unexpected (1): vision_model.extra"), m);
        assertTrue(m.contains("language_model.model.norm.weight: checkpoint [7], model [128]"), m);
    }

    @Test
    void aCheckpointRoundTripsThroughShardsAndBf16() throws Exception {
        Nvlm model = Nvlm.create(Fixtures.tiny(Architecture.H), new SplittableRandom(2));
        Path folder = dir.resolve("sharded");
        Checkpoint.save(model, folder, nvlm.kernels.DType.BF16, 1 << 20);
        assertTrue(Files.exists(folder.resolve("model.safetensors.index.json")));
        Nvlm loaded = Checkpoint.load(folder, Device.CPU);
        float[] original = model.languageModel().embeddingTable().toFloatArray();
        float[] back = loaded.languageModel().embeddingTable().toFloatArray();
        for (int i = 0; i < original.length; i++) {
            assertTrue(Math.abs(original[i] - back[i]) <= Math.abs(original[i]) / 128, "bf16 keeps 8 bits of mantissa");
        }
    }

    @Test
    void aBatchWhoseImageTokensDisagreeWithPixelValuesIsRejected() {
        NvlmConfig config = Fixtures.tiny(Architecture.D);
        Sample sample = Fixtures.sample(config, Fixtures.randomImage(new SplittableRandom(3), 200, 100), "Q?", "A");
        Batch ok = Fixtures.batch(config, List.of(sample));
        // Drop the last tile's pixels (and its count): input_ids still hold its image-context tokens.
        long tiles = ok.tiles();
        Batch bad = new Batch(ok.inputIds(), ok.labels(), ok.pixelValues().narrow(0, 0, tiles - 1).contiguous(),
                Tensor.of(new long[] {tiles - 1}), ok.imageRow(), ok.tileTagIds().narrow(0, 0, tiles - 1).contiguous(),
                ok.mediaImage(), ok.mediaTile());
        Nvlm model = Nvlm.create(config, new SplittableRandom(4));
        var e = assertThrows(IllegalArgumentException.class, () -> model.forward(bad));
        assertTrue(e.getMessage().contains("image-context tokens") && e.getMessage().contains((tiles - 1) + " tiles"),
                e.getMessage());
    }

    @Test
    void configErrorsNameTheFileAndField() throws Exception {
        Path folder = savedModel(Architecture.X);
        Path config = folder.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"every\": 2", "\"every\": \"two\""));
        var e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(folder, Device.CPU));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("xattn.every"), e.getMessage());
        assertFalse(e.getMessage().isBlank());
    }
}
