package nvlm.trainer.parallel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.comm.Communicator;
import nvlm.comm.World;
import nvlm.model.Nvlm;
import nvlm.model.config.LlmConfig;
import nvlm.model.llm.LanguageModel;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Parameter;

/**
 * The tensor-parallel decoder against the whole one, on every rank of the launcher's world (or
 * one process): the same loss, each rank's gradient blocks equal to the matching blocks of the
 * whole model's gradients, and the gathered state dict equal to the whole model's. Every rank
 * computes the whole model itself as the reference. Prints "ok rank R" or the differences.
 */
public final class TensorParallelCheck {
    static final double TOLERANCE = 1e-5;

    private TensorParallelCheck() {
    }

    /** The differences found on this rank (empty: equal). */
    public static List<String> check(Communicator tp, boolean tiedEmbeddings) {
        LlmConfig config = new LlmConfig(32, 2, 4, 2, 48, 64, 1e-6, 1e6, tiedEmbeddings);
        LanguageModel whole = new LanguageModel(config, 0, new SplittableRandom(11));
        SplittableRandom rng = new SplittableRandom(5);
        long[] ids = new long[2 * 7];
        long[] labels = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(config.vocabSize());
            labels[i] = i % 7 < 2 ? F.IGNORE_INDEX : ids[i];
        }
        Tensor idT = Tensor.of(ids, 2, 7);
        Tensor labelT = Tensor.of(labels, 2, 7);

        TensorParallelLanguageModel sharded = new TensorParallelLanguageModel(tp, whole);
        Tensor wholeLoss = Nvlm.loss(whole.logits(whole.hidden(whole.embed(idT), null, null)), labelT);
        wholeLoss.backward();
        Tensor shardLoss = sharded.loss(sharded.logitsBlock(sharded.hidden(sharded.embed(idT))), labelT);
        shardLoss.backward();

        List<String> failures = new ArrayList<>();
        if (Math.abs(wholeLoss.item() - shardLoss.item()) > TOLERANCE * Math.abs(wholeLoss.item())) {
            failures.add("loss " + shardLoss.item() + ", whole model " + wholeLoss.item());
        }
        Map<String, Parameter> wholeParams = whole.namedParameters();
        for (Map.Entry<String, Parameter> e : sharded.namedParameters().entrySet()) {
            Parameter w = wholeParams.get(e.getKey());
            if (w == null) {
                failures.add(e.getKey() + ": not a parameter of the whole model");
                continue;
            }
            int dim = sharded.splitDimOf(e.getKey());
            Tensor expected = w.value().grad();
            if (dim >= 0) {
                long block = expected.size(dim) / tp.size();
                expected = expected.narrow(dim, tp.rank() * block, block);
            }
            Tensor got = e.getValue().value().grad();
            if (got == null) {
                failures.add(e.getKey() + ": no gradient");
                continue;
            }
            String d = difference(got.contiguous().toFloatArray(), expected.contiguous().toFloatArray());
            if (d != null) {
                failures.add(e.getKey() + " gradient: " + d);
            }
        }
        Map<String, Tensor> gathered = sharded.wholeStateDict();
        Map<String, Tensor> wholeState = whole.stateDict();
        if (!gathered.keySet().equals(wholeState.keySet())) {
            failures.add("gathered names " + gathered.keySet() + " vs " + wholeState.keySet());
        } else {
            for (String name : gathered.keySet()) {
                if (!java.util.Arrays.equals(gathered.get(name).toFloatArray(), wholeState.get(name).toFloatArray())) {
                    failures.add(name + ": gathered shards differ from the whole model's tensor");
                }
            }
        }
        return failures;
    }

    private static String difference(float[] got, float[] expected) {
        if (got.length != expected.length) {
            return got.length + " values, expected " + expected.length;
        }
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < got.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            diff = Math.max(diff, Math.abs(got[i] - expected[i]));
        }
        return diff <= TOLERANCE * Math.max(scale, 1e-12) ? null : "max difference " + diff + " at scale " + scale;
    }

    public static void main(String[] args) {
        Communicator tp = World.join();
        List<String> failures = new ArrayList<>(check(tp, false));
        check(tp, true).forEach(f -> failures.add("tied embeddings: " + f));
        if (failures.isEmpty()) {
            System.out.println("ok rank " + tp.rank() + " of " + tp.size());
            System.exit(0);
        }
        failures.forEach(f -> System.out.println("FAIL rank " + tp.rank() + ": " + f));
        System.exit(1);
    }
}
