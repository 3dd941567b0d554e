package nvlm.model.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import nvlm.kernels.DType;
import nvlm.tensor.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FolderInspectionTest {
    @TempDir
    Path tmp;

    @Test
    @SuppressWarnings("unchecked")
    void nvlmD72bExpectsExactlyThe1556TensorsOfItsIndexWithItsTotalSizeAndNoShardPresent() throws IOException {
        Path dir = PublishedFolders.published("nvlm-d-72b");
        FolderInspection in = FolderInspection.of(dir);
        Map<String, Object> index = Json.parseObject(Files.readString(dir.resolve("model.safetensors.index.json")));
        Map<String, Object> weightMap = (Map<String, Object>) index.get("weight_map");
        assertEquals(1556, weightMap.size());
        assertEquals(new TreeSet<>(weightMap.keySet()), new TreeSet<>(in.tensors().keySet()));
        assertEquals(List.of(), in.unexpected());
        assertEquals(46, in.missingShards().size());
        assertEquals(0, in.presentCount());
        // Worked out by hand from the config (ViT 6,052,672,640 + mlp1 620,717,056 + decoder 72,706,203,648).
        // The index's metadata.total_size (176,901,927,168 bytes) is 18,142,740,480 more than these
        // shapes in BF16: it cannot be checked without the shard headers, so it is not used.
        assertEquals(79_379_593_344L, in.parameters());
        assertEquals(2 * in.parameters(), in.bytes());
        assertFalse(in.complete());

        Map<String, Object> json = Json.parseObject(in.toJson());
        assertEquals("NVLM_D", json.get("architecture"));
        assertEquals(158_759_186_688L, json.get("bytes"));
        Map<String, Object> qkv = (Map<String, Object>) ((Map<String, Object>) json.get("tensors"))
                .get("vision_model.encoder.layers.0.attn.qkv.weight");
        assertEquals(List.of(12288L, 3200L), qkv.get("shape"));
        assertEquals("BF16", qkv.get("dtype"));
        assertEquals(false, qkv.get("present"));
    }

    @Test
    void aRandomPublishedFolderIsCompleteAndAMissingShardMarksItsTensorsNotPresent() throws IOException {
        Path dir = tmp.resolve("internvl");
        PublishedFolders.internVl(dir, DType.BF16, 8 << 20);
        FolderInspection whole = FolderInspection.of(dir);
        assertTrue(whole.complete(), whole.summary());
        assertEquals("internvl_chat", whole.format());
        assertEquals("Hermes-2", whole.template());

        List<Path> shards;
        try (var s = Files.list(dir)) {
            shards = s.filter(p -> p.getFileName().toString().startsWith("model-")).sorted().toList();
        }
        assertTrue(shards.size() >= 2, "sharded: " + shards);
        Files.delete(shards.getFirst());
        FolderInspection partial = FolderInspection.of(dir);
        assertFalse(partial.complete());
        assertEquals(List.of(shards.getFirst().getFileName().toString()), partial.missingShards());
        assertTrue(partial.presentCount() > 0 && partial.presentCount() < partial.tensors().size());
        assertEquals(whole.bytes(), partial.bytes());
    }

    @Test
    void aTensorOfTheWrongShapeIsNamed() throws IOException {
        Path dir = tmp.resolve("wrong");
        PublishedFolders.internVl(dir, DType.F32, Long.MAX_VALUE);
        Map<String, nvlm.tensor.Tensor> w = nvlm.tensor.io.Safetensors.load(dir.resolve("model.safetensors"));
        w.put("mlp1.1.bias", nvlm.tensor.Tensor.zeros(3));
        nvlm.tensor.io.Safetensors.save(dir.resolve("model.safetensors"), w);
        FolderInspection in = FolderInspection.of(dir);
        assertFalse(in.complete());
        assertEquals(1, in.shapeMismatches().size());
        assertTrue(in.shapeMismatches().getFirst().startsWith("mlp1.1.bias: folder [3]"), in.shapeMismatches().toString());
    }
}
