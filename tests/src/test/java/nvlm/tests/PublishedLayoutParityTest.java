package nvlm.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import nvlm.kernels.DType;
import nvlm.model.Batch;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.checkpoint.MappedModel;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.PublishedConfig;
import nvlm.tensor.Device;
import nvlm.tensor.GradMode;
import nvlm.tensor.Tensor;
import nvlm.tensor.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Folders in the published layouts (NVLM-D-72B, InternVL2-1B, a bare Qwen2ForCausalLM: configs from
 * ../shared/real/ shrunk, BF16 weights under the published names, sharded with the index), written
 * with random weights by tests/reference/make_published.py, against the PyTorch reference of the
 * same folders (published_ref.py, float64): the Java logits in F32, from the memory-mapped BF16
 * weights and from the F32 copy path, within 1e-4 max relative error. The fixtures are checked in;
 * where /usr/bin/python3 has torch, {@link #theReferenceStillWritesTheCheckedInFolders} regenerates them.
 */
class PublishedLayoutParityTest {
    static final Path FOLDERS = Path.of("reference/golden/published");
    static final String PYTHON = "/usr/bin/python3";

    private static float[] logits(Nvlm model, Batch batch) {
        try (var noGrad = GradMode.disabled()) {
            return model.forward(batch).logits().toFloatArray();
        }
    }

    private static double maxRelative(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        double max = 0;
        double err = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i]));
            err = Math.max(err, Math.abs((double) expected[i] - actual[i]));
        }
        assertTrue(max > 0, "reference logits are all zeros: the comparison would prove nothing");
        return err / max;
    }

    @ParameterizedTest
    @ValueSource(strings = {"nvlm-d-72b", "internvl2-1b", "qwen2"})
    void logitsOfTheMappedAndTheCopiedModelMatchThePyTorchReference(String name) throws Exception {
        Path dir = FOLDERS.resolve(name);
        NvlmConfig config = PublishedConfig.read(dir).config();
        Batch batch = Batch.read(dir.resolve("batch.safetensors"));
        Tensor expected = Safetensors.load(dir.resolve("expected.safetensors")).get("logits");
        assertEquals(config.llm().vocabSize(), expected.size(2));
        if (name.equals("nvlm-d-72b")) {
            assertTrue(batch.length() > config.llm().maxPositionEmbeddings(), "the rows must pass the trained length: dynamic NTK on");
        }
        try (MappedModel mapped = MappedModel.open(dir, config)) {
            assertEquals(DType.BF16, mapped.model().languageModel().embeddingTable().dtype());
            double mappedError = maxRelative(expected.toFloatArray(), logits(mapped.model(), batch));
            double copiedError = maxRelative(expected.toFloatArray(), logits(Checkpoint.load(dir, Device.CPU), batch));
            System.out.printf(Locale.ROOT, "published parity %s: logits max relative %.2e mapped BF16, %.2e F32 copy%n", name,
                    mappedError, copiedError);
            assertTrue(mappedError <= 1e-4, name + ": mapped logits max relative error " + mappedError);
            assertTrue(copiedError <= 1e-4, name + ": copied logits max relative error " + copiedError);
        }
    }

    /** Why /usr/bin/python3 cannot run the reference, or null when it imports torch and numpy. */
    private static String whyNoPythonWithTorch() {
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import torch, numpy")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            // Importing torch takes seconds, minutes on a machine loaded by other work.
            if (!p.waitFor(600, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return PYTHON + " did not import torch in 600 s";
            }
            return p.exitValue() == 0 ? null : "PyTorch is not importable by " + PYTHON + " (apt-get install python3-torch)";
        } catch (IOException e) {
            return "no " + PYTHON + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while looking for " + PYTHON;
        }
    }

    @Test
    void theReferenceStillWritesTheCheckedInFolders(@TempDir Path tmp) throws Exception {
        String why = whyNoPythonWithTorch();
        assumeTrue(why == null, () -> why + ": the checked-in folders and logits are used as they are");
        // Output to a file, so that a stuck script is ended at the timeout instead of blocking a read.
        Path log = tmp.resolve("make_published.log");
        Process p = new ProcessBuilder(PYTHON, "reference/make_published.py", "--check").redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(1800, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            throw new AssertionError("make_published.py --check did not finish in 1800 s:\n" + Files.readString(log));
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("are reproduced"), out);
        assertTrue(Files.isDirectory(FOLDERS.resolve("qwen2")));
    }
}
