package nvlm.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.model.Nvlm;
import nvlm.model.config.Architecture;
import nvlm.tensor.Device;
import nvlm.tensor.Tensor;
import nvlm.trainer.recipe.PaperRecipe;
import nvlm.trainer.recipe.Stage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-rank checkpoint layout on disk, without MPI: a model and an optimizer state split by
 * hand as two tensor-parallel ranks hold them (column blocks of q_proj, row blocks of o_proj, the
 * embedding's vocabulary halves), written shard by shard and committed, read back whole by the
 * single-process loader bit for bit. Two-rank runs resuming under other grids are in
 * DistributedTrainingTest.
 */
class ShardedCheckpointTest {
    private static final int T = 2;

    @TempDir
    Path dir;

    private static int splitDim(String name) {
        if (name.endsWith("q_proj.weight") || name.equals("language_model.model.embed_tokens.weight")) {
            return 0;
        }
        return name.endsWith("o_proj.weight") ? 1 : -1;
    }

    private static Tensor block(Tensor whole, int dim, int t) {
        long size = whole.size(dim) / T;
        return whole.narrow(dim, t * size, size).contiguousCopy().detach();
    }

    /** Rank {@code t}'s part of {@code whole}: its blocks of the split tensors, and for t = 0 the others. */
    private static Map<String, Tensor> part(Map<String, Tensor> whole, java.util.function.ToIntFunction<String> dimOf, int t) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        whole.forEach((name, value) -> {
            int dim = dimOf.applyAsInt(name);
            if (dim >= 0) {
                out.put(name, block(value, dim, t));
            } else if (t == 0) {
                out.put(name, value);
            }
        });
        return out;
    }

    private static int optimizerDim(String key) {
        return key.equals("step") ? -1 : splitDim(key.substring(0, key.lastIndexOf(".exp_avg")));
    }

    private record Written(Nvlm model, Map<String, Tensor> optimizer, Path folder, Map<String, Integer> splitDims) {
    }

    private Written write(Path run, int skipShard) throws IOException {
        Nvlm model = TinyWorld.model(Architecture.D, 3);
        Map<String, Tensor> state = model.stateDict();
        Map<String, Integer> splitDims = new LinkedHashMap<>();
        Map<String, Tensor> optimizer = new LinkedHashMap<>();
        optimizer.put("step", Tensor.of(new long[] {7}, 1));
        SplittableRandom rng = new SplittableRandom(11);
        state.forEach((name, value) -> {
            if (splitDim(name) >= 0) {
                splitDims.put(name, splitDim(name));
            }
            if (name.startsWith("language_model.model.layers.0.")) {
                optimizer.put(name + ".exp_avg", Tensor.randn(rng, value.shape()));
                optimizer.put(name + ".exp_avg_sq", Tensor.randn(rng, value.shape()).abs());
            }
        });
        assertTrue(splitDims.size() >= 4, "the tiny model has split tensors: " + splitDims.keySet());
        Path target = TrainingCheckpoint.target(run, 5);
        Path tmp = TrainingCheckpoint.beginSharded(target);
        for (int t = 0; t < T; t++) {
            if (t != skipShard) {
                TrainingCheckpoint.writeShard(tmp, t, T, part(state, ShardedCheckpointTest::splitDim, t),
                        part(optimizer, ShardedCheckpointTest::optimizerDim, t));
            }
        }
        TrainingCheckpoint.State trainerState = new TrainingCheckpoint.State(5, PaperRecipe.toy(Architecture.D, Stage.SFT), 0,
                1.5, 100, 10, 1.0);
        Path folder = TrainingCheckpoint.commitSharded(run, tmp, target, model.config(), trainerState, 2,
                new TrainingCheckpoint.Parallelism(1, T, false, true), splitDims);
        return new Written(model, optimizer, folder, splitDims);
    }

    @Test
    void shardsWrittenPerRankReadBackAsTheWholeModelAndOptimizerBitForBit() throws IOException {
        Written w = write(dir.resolve("run"), -1);
        TrainingCheckpoint.verify(w.folder());
        assertEquals(new TrainingCheckpoint.Parallelism(1, T, false, true), TrainingCheckpoint.Parallelism.read(w.folder()));
        assertTrue(Files.isRegularFile(w.folder().resolve("model").resolve(TrainingCheckpoint.shardFile(1, T))));
        assertTrue(!Files.exists(w.folder().resolve("model/model.safetensors")), "no whole file: nothing was gathered");

        Map<String, Tensor> expected = w.model().stateDict();
        Map<String, Tensor> read = TrainingCheckpoint.readModel(w.folder(), Device.CPU).stateDict();
        assertEquals(expected.keySet(), read.keySet());
        expected.forEach((name, value) -> assertArrayEquals(value.toFloatArray(), read.get(name).toFloatArray(), name));

        Map<String, Tensor> optimizer = TrainingCheckpoint.readOptimizerState(w.folder());
        assertEquals(w.optimizer().keySet(), optimizer.keySet());
        w.optimizer().forEach((key, value) -> {
            if (!key.equals("step")) {
                assertArrayEquals(value.toFloatArray(), optimizer.get(key).toFloatArray(), key);
            }
        });
        assertArrayEquals(new long[] {7}, optimizer.get("step").toLongArray());
    }

    @Test
    void aMissingShardStopsTheCommitNamingTheFileAndTheRank() {
        Path run = dir.resolve("run");
        IOException e = assertThrows(IOException.class, () -> write(run, 1));
        assertTrue(e.getMessage().contains(TrainingCheckpoint.shardFile(1, T)) && e.getMessage().contains("rank 1"), e.getMessage());
        assertEquals(List.of(), assertDoesNotThrowList(run), "nothing committed");
    }

    @Test
    void aShardLackingABlockIsAClearErrorNamingTheFileAndTensor() throws IOException {
        Written w = write(dir.resolve("run"), -1);
        Path shard1 = w.folder().resolve("model").resolve(TrainingCheckpoint.shardFile(1, T));
        Map<String, Tensor> tensors = new LinkedHashMap<>(nvlm.tensor.io.Safetensors.load(shard1));
        String dropped = "language_model.model.layers.0.self_attn.q_proj.weight";
        assertTrue(tensors.remove(dropped) != null);
        nvlm.tensor.io.Safetensors.save(shard1, tensors);
        var e = assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoint.readModel(w.folder(), Device.CPU));
        assertTrue(e.getMessage().contains(shard1.toString()) && e.getMessage().contains(dropped), e.getMessage());
    }

    private static List<Path> assertDoesNotThrowList(Path run) {
        try {
            return TrainingCheckpoint.list(run);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
