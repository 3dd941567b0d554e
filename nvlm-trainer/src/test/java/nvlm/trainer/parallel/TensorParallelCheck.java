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
import nvlm.model.xattn.CrossAttentionContext;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Parameter;

/**
 * The tensor-parallel decoder (with and without NVLM-X's cross-attention blocks) against the whole one, on every rank of the launcher's world (or
 * one process): the same loss, each rank's gradient blocks equal to the matching blocks of the
 * whole model's gradients, and the gathered state dict equal to the whole model's. Every rank
 * computes the whole model itself as the reference. Prints "ok rank R" or the differences.
 */
public final class TensorParallelCheck {
    static final double TOLERANCE = 1e-5;

    private TensorParallelCheck() {
    }

    /** The differences found on this rank (empty: equal). */
    public static List<String> check(Communicator tp, boolean tiedEmbeddings, int xattnEvery) {
        LlmConfig config = new LlmConfig(32, 2, 4, 2, 48, 64, 1e-6, 1e6, tiedEmbeddings);
        LanguageModel whole = new LanguageModel(config, xattnEvery, new SplittableRandom(11));
        // Open the gates (they start closed, which would hide every cross-attention weight).
        Map<String, Tensor> gates = new java.util.HashMap<>();
        whole.namedParameters().keySet().stream().filter(n -> n.endsWith("_gate"))
                .forEach(n -> gates.put(n, Tensor.full(n.endsWith("attn_gate") ? 0.7 : -0.4, 1)));
        whole.loadStateDict(gates, false);
        SplittableRandom rng = new SplittableRandom(5);
        long[] ids = new long[2 * 7];
        long[] labels = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(config.vocabSize());
            labels[i] = i % 7 < 2 ? F.IGNORE_INDEX : ids[i];
        }
        Tensor idT = Tensor.of(ids, 2, 7);
        Tensor labelT = Tensor.of(labels, 2, 7);

        // Image memory [2, 5, d] for the cross-attention blocks; row 0 sees entries 0-2 from position 3 on,
        // row 1 sees all 5 everywhere (docs/model.md §7).
        float[] memoryValues = new float[2 * 5 * 32];
        for (int i = 0; i < memoryValues.length; i++) {
            memoryValues[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        boolean[] visible = new boolean[2 * 7 * 5];
        float[] rowVisible = new float[2 * 7];
        for (int t = 0; t < 7; t++) {
            for (int m = 0; m < 5; m++) {
                visible[t * 5 + m] = t >= 3 && m < 3;
                visible[35 + t * 5 + m] = true;
            }
            rowVisible[t] = t >= 3 ? 1 : 0;
            rowVisible[7 + t] = 1;
        }
        Tensor mask = Tensor.of(visible, 2, 7, 5);
        Tensor rowMask = Tensor.of(rowVisible, 2, 7, 1);
        Tensor wholeMemory = Tensor.of(memoryValues, 2, 5, 32).requiresGrad(true);
        Tensor shardMemory = Tensor.of(memoryValues, 2, 5, 32).requiresGrad(true);

        TensorParallelLanguageModel sharded = new TensorParallelLanguageModel(tp, whole);
        Tensor wholeLoss = Nvlm.loss(whole.logits(whole.hidden(whole.embed(idT),
                CrossAttentionContext.of(wholeMemory, mask, rowMask), null)), labelT);
        wholeLoss.backward();
        Tensor shardLoss = sharded.loss(sharded.logitsBlock(sharded.hidden(sharded.embed(idT),
                CrossAttentionContext.of(shardMemory, mask, rowMask))), labelT);
        shardLoss.backward();

        List<String> failures = new ArrayList<>();
        if (xattnEvery > 0) {
            String d = difference(shardMemory.grad().toFloatArray(), wholeMemory.grad().toFloatArray());
            if (d != null) {
                failures.add("image memory gradient: " + d);
            }
        }
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
        List<String> failures = new ArrayList<>(check(tp, false, 0));
        check(tp, true, 0).forEach(f -> failures.add("tied embeddings: " + f));
        check(tp, false, 1).forEach(f -> failures.add("cross-attention before every layer (X): " + f));
        if (failures.isEmpty()) {
            System.out.println("ok rank " + tp.rank() + " of " + tp.size());
            System.exit(0);
        }
        failures.forEach(f -> System.out.println("FAIL rank " + tp.rank() + ": " + f));
        System.exit(1);
    }
}
