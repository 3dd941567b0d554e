package nvlm.trainer.eval;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import nvlm.kernels.Parallel;
import nvlm.model.Batch;
import nvlm.model.Generator;
import nvlm.model.Nvlm;
import nvlm.model.prompt.BatchArrays;
import nvlm.model.tiling.TagMode;
import nvlm.tensor.GradMode;
import nvlm.tensor.MemoryScope;
import nvlm.trainer.data.Example;
import nvlm.trainer.data.Family;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.View;
import nvlm.trainer.train.ProgressBar;

/**
 * Exact-match evaluation: each example's prompt (everything but the answer) is
 * completed greedily with the KV cache ({@link Generator}) until {@code <|im_end|>}, and the
 * decoded answer is compared with the reference by {@link ExactMatch}.
 *
 * <p>Captioning is not evaluated: it is stage-1 data whose long structured answers are there to
 * align the projector, and exact match over a whole caption measures little the VQA families do
 * not (a caption is right only if every item is). The evaluated families are the VQA ones (OCR,
 * counting, spatial, chart) and the text-only ones.
 *
 * <p>Examples are generated concurrently, one per pool thread, each with its kernels inline
 * (tiny models gain more from that than from splitting every small matrix product); every
 * example's result is a pure function of the model and the example.
 */
public final class Evaluation {
    /** Longest answer generated: the world's longest answer ("yellow triangle") is 15 tokens plus {@code <|im_end|>}. */
    public static final int MAX_NEW_TOKENS = 24;

    private Evaluation() {
    }

    /** The families scored by exact match, image families first (caption is not one of them, see above). */
    public static List<Family> families() {
        List<Family> out = new ArrayList<>();
        for (Family f : Family.values()) {
            if (f.exactMatch()) {
                out.add(f);
            }
        }
        return out;
    }

    /**
     * The first {@code perFamily} examples of each exact-match family in {@code split}, in
     * {@code view} (the image view for evaluating a model, the described view for the stage-0
     * decoder, the cells view as a diagnostic). Text-only families get {@code textPerFamily}. Families with no examples are left out.
     */
    public static Map<String, List<Example>> worldExamples(SyntheticWorld world, Split split, int perFamily, int textPerFamily,
                                                           View view, TagMode tagMode) {
        Map<String, List<Example>> out = new LinkedHashMap<>();
        for (Family f : families()) {
            int n = f.hasImage() ? perFamily : textPerFamily;
            if (n == 0) {
                continue;
            }
            List<Example> examples = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                examples.add(world.example(split, f, i, view, tagMode));
            }
            out.put(f.id(), examples);
        }
        return out;
    }

    /** {@link #run} with a bar of the examples done and the time left ({@link ProgressBar#counting}) on {@code out}. */
    public static EvalResult run(Nvlm model, SampleEncoder encoder, Map<String, List<Example>> examplesByFamily, int maxNewTokens,
                                 ProgressBar.Mode mode, PrintStream out) {
        long count = examplesByFamily.values().stream().mapToLong(List::size).sum();
        ProgressBar bar = ProgressBar.counting(out, mode, "evaluation", count, "examples");
        try {
            return run(model, encoder, examplesByFamily, maxNewTokens, bar::advanceTo);
        } finally {
            bar.finish();
        }
    }

    /** Scores every family's examples. {@code progress} sees the count of examples done (may be null). */
    public static EvalResult run(Nvlm model, SampleEncoder encoder, Map<String, List<Example>> examplesByFamily, int maxNewTokens,
                                 IntConsumer progress) {
        List<Example> all = new ArrayList<>();
        List<String> familyOf = new ArrayList<>();
        examplesByFamily.forEach((family, examples) -> {
            all.addAll(examples);
            examples.forEach(e -> familyOf.add(family));
        });
        Prediction[] predictions = new Prediction[all.size()];
        boolean training = model.isTraining();
        model.eval();
        int[] done = {0};
        try {
            Parallel.forEach(all.size(), i -> {
                Example e = all.get(i);
                String generated = generate(model, encoder, e, maxNewTokens);
                predictions[i] = new Prediction(e.id(), familyOf.get(i), e.question(), e.answer(), generated,
                        ExactMatch.matches(generated, e.answer()));
                if (progress != null) {
                    synchronized (done) {
                        progress.accept(++done[0]);
                    }
                }
            });
        } finally {
            model.train(training);
        }
        List<FamilyScore> scores = new ArrayList<>();
        int at = 0;
        for (var entry : examplesByFamily.entrySet()) {
            int correct = 0;
            for (int k = 0; k < entry.getValue().size(); k++) {
                correct += predictions[at + k].correct() ? 1 : 0;
            }
            scores.add(new FamilyScore(entry.getKey(), correct, entry.getValue().size()));
            at += entry.getValue().size();
        }
        return new EvalResult(scores, List.of(predictions));
    }

    /** The model's greedy answer to {@code example}'s prompt, without {@code <|im_end|>}. */
    public static String generate(Nvlm model, SampleEncoder encoder, Example example, int maxNewTokens) {
        try (var _ = GradMode.disabled(); var _ = MemoryScope.open()) {
            var sample = encoder.encodeForGeneration(example);
            Batch prompt = Batch.of(BatchArrays.collate(List.of(sample), encoder.padId()))
                    .to(model.languageModel().embeddingTable().device());
            long[] tokens = new Generator(model).generate(prompt, Generator.Settings.greedy(maxNewTokens), t -> {
            });
            int imEnd = model.config().tokens().imEnd();
            int n = tokens.length;
            if (n > 0 && tokens[n - 1] == imEnd) {
                n--;
            }
            // The presets pad the vocabulary past the tokenizer's ids (to a multiple of 64); a model that
            // emits one of those ids has answered with no text there.
            StringBuilder text = new StringBuilder();
            int vocab = encoder.tokenizer().vocabSize();
            int from = 0;
            for (int i = 0; i <= n; i++) {
                if (i == n || tokens[i] >= vocab) {
                    int[] ids = new int[i - from];
                    for (int k = from; k < i; k++) {
                        ids[k - from] = Math.toIntExact(tokens[k]);
                    }
                    text.append(encoder.tokenizer().decode(ids));
                    if (i < n) {
                        text.append('\uFFFD');
                    }
                    from = i + 1;
                }
            }
            return text.toString();
        }
    }
}
