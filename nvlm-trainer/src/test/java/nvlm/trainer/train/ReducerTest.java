package nvlm.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import nvlm.comm.Communicator;
import nvlm.comm.SingleProcess;
import nvlm.comm.Work;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Linear;
import nvlm.tensor.nn.Parameter;
import org.junit.jupiter.api.Test;

/**
 * The reducer's bookkeeping on one rank (its all-reduce is the identity, so the gradients must
 * come back unchanged): which buckets start during the backward pass, in which order, and what
 * is written back. The sums across two ranks are checked by DistributedTrainingTest.
 */
class ReducerTest {

    /** Three linear layers (weights 8x8, biases 8): 6 parameters of 64 or 8 floats. */
    private static List<Linear> layers() {
        SplittableRandom rng = new SplittableRandom(7);
        return List.of(new Linear(8, 8, true, rng), new Linear(8, 8, true, rng), new Linear(8, 8, true, rng));
    }

    private static List<Parameter> parameters(List<Linear> layers) {
        List<Parameter> out = new ArrayList<>();
        for (Linear l : layers) {
            out.add(l.weight());
            out.add(l.bias());
        }
        return out;
    }

    private static Tensor loss(List<Linear> layers, long seed, boolean skipLast) {
        Tensor x = Tensor.randn(new SplittableRandom(seed), 4, 8);
        for (int i = 0; i < layers.size() - (skipLast ? 1 : 0); i++) {
            x = layers.get(i).forward(x).tanh();
        }
        return x.mul(x).sum();
    }

    /** The identity communicator, recording each started all-reduce and which gradients existed then. */
    private static final class Recording implements Communicator {
        final List<String> events = new ArrayList<>();
        final List<Parameter> watched;

        Recording(List<Parameter> watched) {
            this.watched = watched;
        }

        @Override
        public Work allReduceAsync(Tensor t) {
            StringBuilder s = new StringBuilder("start " + t.numel() + " with grads of");
            for (int i = 0; i < watched.size(); i++) {
                if (watched.get(i).value().grad() != null) {
                    s.append(' ').append(i);
                }
            }
            events.add(s.toString());
            return SingleProcess.INSTANCE.allReduceAsync(t);
        }

        // The rest is the one-rank group's.
        @Override public int rank() { return 0; }
        @Override public int size() { return 1; }
        @Override public void allReduce(Tensor t, nvlm.comm.Reduction op) { SingleProcess.INSTANCE.allReduce(t, op); }
        @Override public void allReduce(double[] v, nvlm.comm.Reduction op) { }
        @Override public Tensor reduceScatter(Tensor input) { return SingleProcess.INSTANCE.reduceScatter(input); }
        @Override public Tensor allGather(Tensor input) { return SingleProcess.INSTANCE.allGather(input); }
        @Override public void broadcast(Tensor t, int root) { SingleProcess.INSTANCE.broadcast(t, root); }
        @Override public void barrier() { }
        @Override public Communicator split(int color, int key) { return this; }
        @Override public void abort(String message, int exitCode) { SingleProcess.INSTANCE.abort(message, exitCode); }
        @Override public void close() { }
    }

    @Test
    void bucketsStartInReverseLayerOrderWhileTheEarlierLayersStillBackpropagate() {
        List<Linear> layers = layers();
        List<Parameter> params = parameters(layers);
        // Two layers per bucket (72 floats = 288 bytes): buckets {layer 3}, {layer 2}, {layer 1}.
        Recording comm = new Recording(params);
        Reducer reducer = new Reducer(comm, params, 72 * 4);
        assertEquals(3, reducer.bucketCount());

        Tensor l = loss(layers, 1, false);
        reducer.begin();
        try (var _ = reducer.armHooks()) {
            l.backward();
        }
        reducer.finish();
        // The last layer's bucket starts before the first layer has a gradient; 72 floats + 2 presence flags each.
        assertEquals(List.of("start 74 with grads of 4 5", "start 74 with grads of 2 3 4 5", "start 74 with grads of 0 1 2 3 4 5"),
                comm.events);
        assertEquals(3, reducer.launchedDuringBackward());
    }

    @Test
    void gradientsComeBackBitForBitAndAccumulatedMicroBatchesAreSummedOnce() {
        List<Linear> reference = layers();
        loss(reference, 1, false).backward();
        loss(reference, 2, false).backward();

        List<Linear> layers = layers();
        List<Parameter> params = parameters(layers);
        Reducer reducer = new Reducer(SingleProcess.INSTANCE, params, 100);
        for (int step = 0; step < 2; step++) {
            params.forEach(Parameter::zeroGrad);
            reducer.begin();
            loss(layers, 1, false).backward(); // the first micro-batch only accumulates
            try (var _ = reducer.armHooks()) {
                loss(layers, 2, false).backward();
            }
            reducer.launchRemaining();
            reducer.finish();
            List<Parameter> expected = parameters(reference);
            for (int i = 0; i < params.size(); i++) {
                assertArrayEquals(expected.get(i).value().grad().toFloatArray(), params.get(i).value().grad().toFloatArray(),
                        "gradient of parameter " + i + ", step " + step);
            }
        }
    }

    @Test
    void aParameterTheBackwardPassDidNotReachWaitsForTheEndAndKeepsANullGradient() {
        List<Linear> layers = layers();
        List<Parameter> params = parameters(layers);
        Recording comm = new Recording(params);
        Reducer reducer = new Reducer(comm, params, 72 * 4);
        reducer.begin();
        try (var _ = reducer.armHooks()) {
            loss(layers, 1, true).backward(); // the last layer is not used
        }
        // Its bucket comes first, so no bucket can start during the backward pass (every rank starts them in order).
        assertEquals(0, reducer.launchedDuringBackward());
        assertEquals(List.of(), comm.events);
        reducer.finish();
        assertEquals(3, comm.events.size());
        assertNull(params.get(4).value().grad());
        assertNull(params.get(5).value().grad());
        assertTrue(params.get(0).value().grad() != null);
    }

    @Test
    void misuseIsAClearError() {
        List<Parameter> params = parameters(layers());
        Reducer reducer = new Reducer(SingleProcess.INSTANCE, params, 1 << 20);
        assertThrows(IllegalStateException.class, reducer::finish);
        reducer.begin();
        var e = assertThrows(IllegalStateException.class, reducer::begin);
        assertTrue(e.getMessage().contains("finish()"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Reducer(SingleProcess.INSTANCE, params, 2));
        assertThrows(IllegalArgumentException.class, () -> new Reducer(SingleProcess.INSTANCE, List.of(), 1 << 20));
    }
}
