package nvlm.trainer.eval;

/** Exact-match results of one task family. */
public record FamilyScore(String family, int correct, int total) {
    public FamilyScore {
        if (total < 0 || correct < 0 || correct > total) {
            throw new IllegalArgumentException("family " + family + ": " + correct + " correct of " + total);
        }
    }

    /** Fraction correct in [0, 1]; NaN when nothing was evaluated. */
    public double accuracy() {
        return total == 0 ? Double.NaN : (double) correct / total;
    }

    /** Text-only families are named {@code text_...}. */
    public boolean textOnly() {
        return family.startsWith(EvalResult.TEXT_PREFIX);
    }
}
