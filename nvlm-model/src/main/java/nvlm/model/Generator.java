package nvlm.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import nvlm.model.config.ContextLength;
import nvlm.model.llm.KvCache;
import nvlm.model.xattn.CrossAttentionContext;
import nvlm.tensor.GradMode;
import nvlm.tensor.MemoryScope;
import nvlm.tensor.Tensor;

/**
 * Autoregressive generation with a KV cache for NVLM-D, X and H: the prompt (with its images) is
 * run once, then one token per step. For X and H the cross-attention memory's keys and values
 * are computed once per image and reused; every generated token comes after the last image, so
 * it sees all of that image's memory (docs/model.md §7).
 */
public final class Generator {
    /**
     * Sampling settings: temperature 0 is greedy; otherwise softmax(logits / temperature)
     * restricted to the smallest set of tokens whose probability reaches topP.
     */
    public record Settings(int maxNewTokens, double temperature, double topP, long seed) {
        public Settings {
            if (maxNewTokens < 0 || temperature < 0 || topP <= 0 || topP > 1) {
                throw new IllegalArgumentException("generation needs maxNewTokens >= 0, temperature >= 0, 0 < topP <= 1; got "
                        + maxNewTokens + ", " + temperature + ", " + topP);
            }
        }

        public static Settings greedy(int maxNewTokens) {
            return new Settings(maxNewTokens, 0, 1, 0);
        }
    }

    private final Nvlm model;

    public Generator(Nvlm model) {
        this.model = model;
    }

    /**
     * Generates a continuation of the single-row {@code prompt} until {@code <|im_end|>}
     * (included in the result) or maxNewTokens. {@code onToken} sees each token as it is made.
     */
    public long[] generate(Batch prompt, Settings settings, IntConsumer onToken) {
        if (prompt.rows() != 1) {
            throw new IllegalArgumentException("generation takes one prompt row, got " + prompt.rows());
        }
        List<Long> out = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(settings.seed());
        try (var noGrad = GradMode.disabled(); var scope = MemoryScope.open()) {
            int promptLength = (int) prompt.length();
            // checked before the cache for prompt + answer is allocated (long: 2^31-1 new tokens must not wrap)
            ContextLength.require((long) promptLength + settings.maxNewTokens(), model.config(),
                    "a prompt of " + promptLength + " tokens and up to " + settings.maxNewTokens() + " new ones");
            KvCache cache = model.languageModel().newCache(1, promptLength + settings.maxNewTokens(),
                    model.languageModel().embeddingTable().device());
            Nvlm.Inputs in = model.prepare(prompt);
            CrossAttentionContext context = in.context() == null ? null
                    : CrossAttentionContext.cached(in.context().memory(), in.context().mask(), in.context().rowMask());
            Tensor hidden = model.languageModel().hidden(in.embeddings(), context, cache);
            CrossAttentionContext step = context == null ? null : decodingContext(context, prompt);
            float[] logits = null; // one host copy of the logits, reused token after token
            for (int i = 0; i < settings.maxNewTokens(); i++) {
                try (var tokenScope = MemoryScope.open()) {
                    Tensor last = hidden.narrow(1, hidden.size(1) - 1, 1);
                    Tensor lastLogits = model.languageModel().logits(last);
                    if (logits == null) {
                        logits = new float[Math.toIntExact(lastLogits.numel())];
                    }
                    lastLogits.copyInto(logits);
                    long token = pick(logits, settings, rng);
                    out.add(token);
                    onToken.accept((int) token);
                    if (token == model.config().tokens().imEnd() || i + 1 == settings.maxNewTokens()) {
                        break;
                    }
                    Tensor embedded = model.languageModel().embed(Tensor.of(new long[] {token}, 1, 1)
                            .to(model.languageModel().embeddingTable().device()));
                    hidden = MemoryScope.escape(model.languageModel().hidden(embedded, step, cache));
                }
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** Masks for tokens after the prompt: they see all of the prompt's last image's memory. */
    private static CrossAttentionContext decodingContext(CrossAttentionContext prefill, Batch prompt) {
        Tensor lastRow = prefill.mask().narrow(1, prefill.mask().size(1) - 1, 1);
        long[] mediaImage = prompt.mediaImage().toLongArray();
        long[] mediaTile = prompt.mediaTile().toLongArray();
        int last = mediaImage.length - 1;
        if (mediaImage[last] >= 0 && mediaTile[last] >= 0) {
            throw new IllegalArgumentException("prompt ends inside a tile tag; generation continues after the image");
        }
        Tensor rowMask = prefill.rowMask().narrow(1, prefill.rowMask().size(1) - 1, 1);
        return prefill.withMasks(lastRow.contiguous(), rowMask.contiguous());
    }

    static long pick(float[] logits, Settings settings, SplittableRandom rng) {
        if (settings.temperature() == 0) {
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                if (logits[i] > logits[best]) {
                    best = i;
                }
            }
            return best;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp((logits[i] - max) / settings.temperature());
            sum += p[i];
        }
        Integer[] order = new Integer[p.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        double[] probs = p;
        Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a]));
        double kept = 0;
        int n = 0;
        while (n < order.length && (n == 0 || kept < settings.topP() * sum)) {
            kept += p[order[n]];
            n++;
        }
        double u = rng.nextDouble() * kept;
        for (int i = 0; i < n; i++) {
            u -= p[order[i]];
            if (u <= 0) {
                return order[i];
            }
        }
        return order[n - 1];
    }

    /** Logits [T, V] of a single-row prompt by full recomputation (tests compare the cache path to this). */
    public float[][] fullLogits(Batch prompt) {
        try (var noGrad = GradMode.disabled()) {
            Tensor logits = model.forward(prompt).logits();
            int t = (int) logits.size(1);
            int v = (int) logits.size(2);
            float[] flat = logits.reshape(t, v).toFloatArray();
            float[][] out = new float[t][];
            for (int i = 0; i < t; i++) {
                out[i] = Arrays.copyOfRange(flat, i * v, (i + 1) * v);
            }
            return out;
        }
    }
}
