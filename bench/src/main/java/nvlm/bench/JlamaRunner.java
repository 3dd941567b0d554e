package nvlm.bench;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import com.github.tjake.jlama.util.PhysicalCoreExecutor;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;

/**
 * Times Jlama (0.8.4) generating greedily from a prompt of token ids, in a JVM of its own (see
 * {@link JlamaPeer}): the prompt through {@code batchForward}, then one {@code forward} per token,
 * as Jlama's own {@code generate} does, with F32 activations over the BF16 weights. Prints one JSON
 * line with the median prefill and decode tokens/s.
 *
 * <p>Arguments: Qwen2 folder, file of prompt ids (one a line), new tokens, repeats, threads.
 */
public final class JlamaRunner {
    private JlamaRunner() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            throw new IllegalArgumentException("JlamaRunner DIR IDS_FILE NEW_TOKENS REPEATS THREADS, got " + Arrays.toString(args));
        }
        Path dir = Path.of(args[0]);
        int[] prompt = Files.readAllLines(Path.of(args[1])).stream().filter(s -> !s.isBlank()).mapToInt(Integer::parseInt).toArray();
        int newTokens = Integer.parseInt(args[2]);
        int repeats = Integer.parseInt(args[3]);
        PhysicalCoreExecutor.overrideThreadCount(Integer.parseInt(args[4]));
        AbstractModel model = ModelSupport.loadModel(new File(dir.toString()), DType.F32, DType.F32);
        double[] prefill = new double[repeats];
        double[] decode = new double[repeats];
        try (KvBufferCache caches = new KvBufferCache(model)) {
            for (int r = -1; r < repeats; r++) {
                KvBufferCache.KvBuffer kv = caches.getKvBuffer(UUID.randomUUID());
                AbstractTensor logits = model.makeDenseTensor(model.getConfig().vocabularySize);
                long start = System.nanoTime();
                AbstractTensor out = model.batchForward(prompt, 0, kv);
                int token = model.sample(out.slice(out.shape().first() - 1), 0f, 0f, logits);
                out.close();
                long first = System.nanoTime();
                for (int i = 1; i < newTokens; i++) {
                    AbstractTensor o = model.forward(token, prompt.length + i - 1, kv, Optional.empty());
                    token = model.sample(o, 0f, 0f, logits);
                    o.close();
                }
                long end = System.nanoTime();
                if (r >= 0) {
                    prefill[r] = prompt.length / ((first - start) / 1e9);
                    decode[r] = (newTokens - 1) / ((end - first) / 1e9);
                    System.err.printf(Locale.ROOT, "jlama text  run %d: prefill %.1f tokens/s, decode %.2f tokens/s%n", r + 1,
                            prefill[r], decode[r]);
                }
            }
        }
        System.out.printf(Locale.ROOT, "{\"prefill_tokens_per_s\":%s,\"decode_tokens_per_s\":%s}%n",
                Samples.median(prefill), Samples.median(decode));
        System.exit(0);
    }
}
