package nvlm.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nvlm.tensor.io.Safetensors;
import nvlm.tensor.nn.Parameter;
import nvlm.tensor.optim.AdamW;
import org.junit.jupiter.api.Test;

/**
 * Composite computations against PyTorch. The fixtures in src/test/resources/goldens are made by
 * src/test/python/make_goldens.py (PyTorch in float64 on float32-rounded inputs); Java computes
 * in float32, so agreement is asked to 1e-4 of each tensor's largest magnitude: float32
 * rounding through a few matrix products of width 16-20 stays near 1e-6.
 */
class PyTorchGoldenTest {
    private static final double TOLERANCE = 1e-4;

    private static Map<String, Tensor> fixture(String name) throws Exception {
        return Safetensors.load(Path.of("src/test/resources/goldens", name + ".safetensors"));
    }

    private static Map<String, Tensor> leaves(Map<String, Tensor> f, String... names) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String n : names) {
            out.put(n, f.get(n).detach().requiresGrad(true));
        }
        return out;
    }

    static void assertClose(String what, Tensor expected, Tensor actual) {
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        assertEquals(e.length, a.length, what + ": sizes");
        double max = 0;
        double err = 0;
        for (int i = 0; i < e.length; i++) {
            max = Math.max(max, Math.abs(e[i]));
            err = Math.max(err, Math.abs(e[i] - a[i]));
        }
        assertTrue(max > 0, what + ": the reference is all zeros, the comparison would prove nothing");
        assertTrue(err <= TOLERANCE * max, what + ": max error " + err + " vs largest value " + max);
    }

    @Test
    void qwen2AttentionBlockMatchesPyTorch() throws Exception {
        Map<String, Tensor> f = fixture("attention_block");
        Map<String, Tensor> p = leaves(f, "x", "q_w", "q_b", "k_w", "k_b", "v_w", "v_b", "o_w");
        long b = 2;
        long t = 7;
        int heads = 4;
        int kv = 2;
        int hd = 4;
        Tensor x = p.get("x");
        Tensor q = F.rope(F.linear(x, p.get("q_w"), p.get("q_b")).reshape(b, t, heads, hd), 0, 1e6).permute(0, 2, 1, 3);
        Tensor k = F.rope(F.linear(x, p.get("k_w"), p.get("k_b")).reshape(b, t, kv, hd), 0, 1e6).permute(0, 2, 1, 3);
        Tensor v = F.linear(x, p.get("v_w"), p.get("v_b")).reshape(b, t, kv, hd).permute(0, 2, 1, 3);
        Tensor o = F.attention(q, k, v, null, true, 1 / Math.sqrt(hd)).permute(0, 2, 1, 3).reshape(b, t, (long) heads * hd);
        Tensor out = F.linear(o, p.get("o_w"), null);
        assertClose("out", f.get("out"), out);
        out.mul(f.get("r")).sum().backward();
        for (var e : p.entrySet()) {
            assertClose("grad " + e.getKey(), f.get("grad." + e.getKey()), e.getValue().grad());
        }
    }

    @Test
    void normAndMlpStackMatchesPyTorch() throws Exception {
        Map<String, Tensor> f = fixture("norm_mlp");
        Map<String, Tensor> p = leaves(f, "x", "ln_w", "ln_b", "fc1_w", "fc1_b", "fc2_w", "fc2_b", "rms_w", "gate_w",
                "up_w", "down_w");
        Tensor h = F.layerNorm(p.get("x"), p.get("ln_w"), p.get("ln_b"), 1e-5);
        h = F.linear(F.linear(h, p.get("fc1_w"), p.get("fc1_b")).gelu(), p.get("fc2_w"), p.get("fc2_b"));
        Tensor n = F.rmsNorm(h, p.get("rms_w"), 1e-6);
        Tensor out = F.linear(F.linear(n, p.get("gate_w"), null).silu().mul(F.linear(n, p.get("up_w"), null)),
                p.get("down_w"), null);
        assertClose("out", f.get("out"), out);
        out.mul(f.get("r")).sum().backward();
        for (var e : p.entrySet()) {
            assertClose("grad " + e.getKey(), f.get("grad." + e.getKey()), e.getValue().grad());
        }
    }

    @Test
    void crossEntropyWithIgnoreIndexMatchesPyTorch() throws Exception {
        Map<String, Tensor> f = fixture("cross_entropy");
        Tensor logits = f.get("logits").detach().requiresGrad(true);
        Tensor loss = F.crossEntropy(logits, f.get("targets"), -100);
        assertEquals(f.get("loss").item(), loss.item(), 1e-5 * Math.abs(f.get("loss").item()));
        loss.backward();
        assertClose("grad logits", f.get("grad.logits"), logits.grad());
    }

    /** A module holding one parameter, so AdamW can run on it. */
    static final class One extends nvlm.tensor.nn.Module {
        final Parameter p;

        One(Tensor value) {
            p = parameter("p", value);
        }
    }

    @Test
    void adamWStepsMatchTorchOptimAdamW() throws Exception {
        Map<String, Tensor> f = fixture("adamw");
        One one = new One(f.get("p0"));
        AdamW opt = AdamW.of(List.of(one.p), 1e-2, 0.9, 0.95, 1e-8, 0.1);
        for (int i = 0; i < 3; i++) {
            one.p.value().setGrad(f.get("g" + i));
            opt.step();
        }
        float[] expected = f.get("p3").toFloatArray();
        float[] actual = one.p.value().toFloatArray();
        for (int i = 0; i < expected.length; i++) {
            // Same float32 operation order as torch's single-tensor AdamW: a few ulps at most.
            assertEquals(expected[i], actual[i], 4 * Math.ulp(expected[i]), "element " + i);
        }
    }
}
