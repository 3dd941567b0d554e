package nvlm.tensor.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import nvlm.tensor.Tensor;
import org.junit.jupiter.api.Test;

class ModuleTest {

    static final class Block extends Module {
        final LayerNorm norm = child("norm", new LayerNorm(4, 1e-5, true));
        final Linear proj;

        Block(Random rng) {
            proj = child("proj", new Linear(4, 4, false, rng));
        }

        Tensor forward(Tensor x) {
            return proj.forward(norm.forward(x));
        }
    }

    static final class Net extends Module {
        final ModuleList<Block> layers;
        final Embedding embed;

        Net(long seed) {
            Random rng = new Random(seed);
            embed = child("embed_tokens", new Embedding(10, 4, rng));
            layers = child("layers", new ModuleList<>(List.of(new Block(rng), new Block(rng))));
        }
    }

    @Test
    void parameterNamesAreDottedCheckpointPaths() {
        assertEquals(List.of("embed_tokens.weight", "layers.0.norm.weight", "layers.0.norm.bias", "layers.0.proj.weight",
                "layers.1.norm.weight", "layers.1.norm.bias", "layers.1.proj.weight"),
                List.copyOf(new Net(0).namedParameters().keySet()));
    }

    @Test
    void sameSeedSameBits() {
        assertArrayEquals(new Net(7).layers.get(1).proj.weight().value().toFloatArray(),
                new Net(7).layers.get(1).proj.weight().value().toFloatArray());
    }

    @Test
    void loadStateDictReportsEveryProblemInOneError() {
        Net net = new Net(1);
        Map<String, Tensor> state = new java.util.HashMap<>(new Net(2).stateDict());
        state.remove("layers.0.norm.bias");
        state.put("layers.9.extra", Tensor.zeros(1));
        state.put("embed_tokens.weight", Tensor.zeros(11, 4));
        var e = assertThrows(IllegalArgumentException.class, () -> net.loadStateDict(state, true));
        String m = e.getMessage();
        assertTrue(m.contains("missing (1): layers.0.norm.bias"), m);
        assertTrue(m.contains("unexpected (1): layers.9.extra"), m);
        assertTrue(m.contains("embed_tokens.weight: checkpoint [11, 4], model [10, 4]"), m);
    }

    @Test
    void freezingStopsGradients() {
        Net net = new Net(3);
        net.layers.get(0).trainable(false);
        Tensor x = Tensor.randn(new Random(1), 2, 4);
        net.layers.get(1).forward(net.layers.get(0).forward(x)).sum().backward();
        assertNull(net.layers.get(0).proj.weight().grad());
        assertTrue(net.layers.get(1).proj.weight().grad() != null);
        assertEquals(4, net.trainableParameters().size(), "the embedding and layer 1's three");
    }
}
