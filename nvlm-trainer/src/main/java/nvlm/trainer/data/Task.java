package nvlm.trainer.data;

/**
 * What the synthetic world generated for one (split, family, index): the scene (null for
 * text-only families), the question, the canonical answer and the content key that decides its
 * split.
 */
public record Task(Family family, Scene scene, String question, String answer, String key) {
}
