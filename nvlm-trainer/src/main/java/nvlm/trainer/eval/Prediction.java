package nvlm.trainer.eval;

/** One evaluated example: what the model generated and whether it matched the reference. */
public record Prediction(String id, String family, String question, String reference, String generated, boolean correct) {
}
