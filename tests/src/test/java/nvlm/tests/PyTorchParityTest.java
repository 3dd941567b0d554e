package nvlm.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.model.Batch;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.NvlmConfig;
import nvlm.tensor.Device;
import nvlm.tensor.Tensor;
import nvlm.tensor.io.Json;
import nvlm.tensor.io.Safetensors;
import nvlm.tensor.nn.Parameter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * NVLM-D, X and H at the tiny preset against the PyTorch reference written from docs/model.md
 * (tests/reference/nvlm_ref.py, fixtures made by make_goldens.py in float64). Tolerances:
 * logits to 1e-4 max relative error, loss to 1e-5 relative, every parameter gradient to
 * 1e-3 relative in norm. "Max relative error" is max|java - torch| / max|torch| over the tensor,
 * since elementwise ratios are undefined where a logit is near zero.
 */
class PyTorchParityTest {
    static final Path GOLDEN = Path.of("reference/golden");

    static Nvlm modelFromFixture(Path dir) throws Exception {
        NvlmConfig config = NvlmConfig.read(dir.resolve("config.json"));
        Map<String, Object> init = (Map<String, Object>) Json.parseObject(
                java.nio.file.Files.readString(dir.resolve("config.json"))).get("init");
        Nvlm model = Nvlm.create(config, new SplittableRandom(0));
        CounterInit.apply(model, (Long) init.get("seed"), (Boolean) init.get("random_gates"));
        return model;
    }

    static double maxRelative(Tensor expected, Tensor actual) {
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        assertEquals(e.length, a.length);
        double max = 0;
        double err = 0;
        for (int i = 0; i < e.length; i++) {
            max = Math.max(max, Math.abs(e[i]));
            err = Math.max(err, Math.abs((double) e[i] - a[i]));
        }
        assertTrue(max > 0, "reference is all zeros: the comparison would prove nothing");
        return err / max;
    }

    static double normRelative(Tensor expected, Tensor actual) {
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        double diff = 0;
        double ref = 0;
        for (int i = 0; i < e.length; i++) {
            diff += ((double) e[i] - a[i]) * ((double) e[i] - a[i]);
            ref += (double) e[i] * e[i];
        }
        assertTrue(ref > 0, "reference gradient is all zeros: the comparison would prove nothing");
        return Math.sqrt(diff / ref);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-d", "tiny-x", "tiny-h"})
    void logitsLossAndEveryGradientMatchTheReference(String fixture) throws Exception {
        Path dir = GOLDEN.resolve(fixture);
        Nvlm model = modelFromFixture(dir);
        Batch batch = Batch.read(dir.resolve("batch.safetensors"));
        Map<String, Tensor> expected = Safetensors.load(dir.resolve("expected.safetensors"));

        Nvlm.Output out = model.forward(batch);
        double logitsError = maxRelative(expected.get("logits"), out.logits());
        assertTrue(logitsError <= 1e-4, fixture + ": logits max relative error " + logitsError);
        double lossExpected = expected.get("loss").item();
        double lossError = Math.abs(out.loss().item() - lossExpected) / Math.abs(lossExpected);
        assertTrue(lossError <= 1e-5, fixture + ": loss " + out.loss().item() + " vs " + lossExpected);

        out.loss().backward();
        List<String> failures = new ArrayList<>();
        double worst = 0;
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            Tensor want = expected.get("grad." + e.getKey());
            assertTrue(want != null, fixture + ": the fixture has no gradient for " + e.getKey());
            Tensor got = e.getValue().grad();
            assertTrue(got != null, fixture + ": no gradient reached " + e.getKey());
            double err = normRelative(want, got);
            worst = Math.max(worst, err);
            if (err > 1e-3) {
                failures.add(e.getKey() + " " + err);
            }
        }
        // The measured errors, for the README's parity table (surefire keeps stdout in target/surefire-reports).
        System.out.printf(java.util.Locale.ROOT, "parity %s: logits max relative %.2e, loss relative %.2e, worst gradient %.2e"
                + " (of %d parameters)%n", fixture, logitsError, lossError, worst, model.namedParameters().size());
        assertTrue(failures.isEmpty(), fixture + ": gradients off: " + failures);
        assertTrue(worst <= 1e-3);
    }

    @Test
    void transformersNamedShardedBf16CheckpointLoadsAndMatches() throws Exception {
        Path dir = GOLDEN.resolve("tiny-h-hf-bf16-sharded");
        Nvlm model = Checkpoint.load(dir, Device.CPU);
        Batch batch = Batch.read(GOLDEN.resolve("tiny-h/batch.safetensors"));
        Map<String, Tensor> expected = Safetensors.load(dir.resolve("expected.safetensors"));
        Nvlm.Output out = model.forward(batch);
        double logitsError = maxRelative(expected.get("logits"), out.logits());
        assertTrue(logitsError <= 1e-4, "logits max relative error " + logitsError);
        assertEquals(expected.get("loss").item(), out.loss().item(), 1e-5 * Math.abs(expected.get("loss").item()));
    }
}
