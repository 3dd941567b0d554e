package nvlm.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.model.Nvlm;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.model.tiling.TagMode;
import nvlm.model.tokenizer.ProjectTokenizer;
import nvlm.trainer.data.Example;
import nvlm.trainer.data.Family;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.View;
import nvlm.trainer.data.WorldConfig;
import org.junit.jupiter.api.Test;

class EvaluationTest {
    @Test
    void everyFamilyIsScoredByExactMatchOfTheGreedyAnswerCaptioningExcluded() {
        for (Architecture arch : Architecture.values()) {
            NvlmConfig config = Presets.get("tiny", arch);
            Nvlm model = Nvlm.create(config, new SplittableRandom(7));
            SyntheticWorld world = new SyntheticWorld(WorldConfig.forModel(config, 2));
            SampleEncoder encoder = SampleEncoder.forConfig(config, ProjectTokenizer.instance(), SampleEncoder.Options.defaults());
            Map<String, List<Example>> examples = Evaluation.worldExamples(world, Split.TEST, 2, 3, View.IMAGE, TagMode.ONE_D);
            assertEquals(List.of("ocr", "counting", "spatial", "chart", "text_arithmetic", "text_string"), List.copyOf(examples.keySet()));
            assertFalse(examples.containsKey(Family.CAPTION.id()));
            EvalResult result = Evaluation.run(model, encoder, examples, 6, null);
            assertEquals(2 * 4 + 3 * 2, result.predictions().size());
            for (Prediction p : result.predictions()) {
                assertEquals(ExactMatch.matches(p.generated(), p.reference()), p.correct(), p.id());
            }
            int at = 0;
            for (FamilyScore s : result.scores()) {
                List<Prediction> mine = result.predictions().subList(at, at + s.total());
                assertEquals(mine.stream().filter(Prediction::correct).count(), s.correct(), s.family());
                mine.forEach(p -> assertEquals(s.family(), p.family()));
                at += s.total();
            }
            // Concurrent evaluation gives what one generation at a time gives.
            Example first = examples.get("ocr").getFirst();
            assertEquals(Evaluation.generate(model, encoder, first, 6), result.predictions().getFirst().generated(), arch.name());
        }
    }
}
