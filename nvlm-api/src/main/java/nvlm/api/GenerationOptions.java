package nvlm.api;

import java.util.List;

/**
 * How to generate: at most {@code maxTokens} new tokens; {@code temperature} 0 is greedy, above 0
 * samples softmax(logits / temperature) within the smallest set of tokens whose probability
 * reaches {@code topP}; generation also stops when the text contains one of {@code stop} (which is
 * cut off) and at the model's end-of-turn token; {@code seed} makes sampling repeatable.
 */
public record GenerationOptions(int maxTokens, double temperature, double topP, List<String> stop, long seed) {
    public GenerationOptions {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens must be at least 1, got " + maxTokens);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be 0 (greedy) or positive, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        }
        stop = List.copyOf(stop);
        for (String s : stop) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("a stop string is empty");
            }
        }
    }

    /** Greedy, 256 tokens, no stop strings. */
    public static GenerationOptions defaults() {
        return new GenerationOptions(256, 0, 1, List.of(), 0);
    }

    public GenerationOptions withMaxTokens(int n) {
        return new GenerationOptions(n, temperature, topP, stop, seed);
    }

    public GenerationOptions withTemperature(double t) {
        return new GenerationOptions(maxTokens, t, topP, stop, seed);
    }

    public GenerationOptions withTopP(double p) {
        return new GenerationOptions(maxTokens, temperature, p, stop, seed);
    }

    public GenerationOptions withStop(String... strings) {
        return new GenerationOptions(maxTokens, temperature, topP, List.of(strings), seed);
    }

    public GenerationOptions withSeed(long s) {
        return new GenerationOptions(maxTokens, temperature, topP, stop, s);
    }
}
