package nvlm.tests;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import nvlm.model.Nvlm;
import nvlm.tensor.GradMode;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Parameter;

/**
 * The PyTorch reference's counter-based weight initialisation (tests/reference/README.md,
 * "Weight initialisation"): every f32 weight is a function of (seed, tensor name, index), so the
 * golden fixtures need not store weights.
 */
final class CounterInit {
    private CounterInit() {
    }

    static long fnv1a64(String name) {
        long h = 0xCBF29CE484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001B3L;
        }
        return h;
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static float[] values(long seed, String name, int count, double mean, double std) {
        long key = mix(seed ^ fnv1a64(name));
        float[] out = new float[count];
        for (int i = 1; i <= count; i++) {
            double u = (mix(key + i * 0x9E3779B97F4A7C15L) >>> 40) * 0x1p-24;
            out[i - 1] = (float) (mean + (2.0 * u - 1.0) * (std * Math.sqrt(3.0)));
        }
        return out;
    }

    /** Initialises every parameter of {@code model} as make_model.py does. */
    static void apply(Nvlm model, long seed, boolean randomGates) {
        try (var noGrad = GradMode.disabled()) {
            for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
                String name = e.getKey();
                Parameter p = e.getValue();
                long[] shape = p.value().shape();
                int n = Math.toIntExact(p.value().numel());
                float[] v;
                if (name.endsWith(".ls1") || name.endsWith(".ls2")) {
                    v = new float[n];
                    java.util.Arrays.fill(v, 0.1f);
                } else if (name.endsWith("attn_gate") || name.endsWith("ff_gate")) {
                    v = randomGates ? values(seed, name, n, 0, 0.5) : new float[n];
                } else if (isNormWeight(name)) {
                    v = values(seed, name, n, 1, 0.05);
                } else {
                    v = values(seed, name, n, 0, 0.02);
                }
                p.set(Tensor.of(v, shape));
            }
        }
    }

    private static boolean isNormWeight(String name) {
        return name.endsWith("norm.weight") || name.endsWith("norm1.weight") || name.endsWith("norm2.weight")
                || name.endsWith("layernorm.weight") || name.equals("mlp1.0.weight");
    }
}
