package nvlm.api;

/**
 * What one generation produced.
 *
 * @param text            the answer, without the end-of-turn token and cut at a stop string
 * @param promptIds       the prompt's token ids, images expanded
 * @param ids             the generated token ids (a stop token included when one ended it)
 * @param finishReason    {@code stop} (end-of-turn token or stop string), {@code length} (maxTokens reached)
 *                        or {@code cancelled}
 * @param timeToFirstTokenNanos from the call to the first generated token (image encoding and prefill included)
 * @param decodeNanos     from the first generated token to the last
 */
public record Completion(String text, int[] promptIds, int[] ids, String finishReason, long timeToFirstTokenNanos,
                         long decodeNanos) {
    /** Tokens per second after the first one (0 when fewer than two tokens were made). */
    public double decodeTokensPerSecond() {
        return ids.length < 2 || decodeNanos <= 0 ? 0 : (ids.length - 1) / (decodeNanos / 1e9);
    }
}
