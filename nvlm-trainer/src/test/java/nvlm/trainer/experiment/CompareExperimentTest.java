package nvlm.trainer.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import nvlm.tensor.io.Json;
import nvlm.trainer.cli.CommandLineRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** compare and overfit end to end with one or two steps per stage: the JSON they promise, reuse of trained runs. */
class CompareExperimentTest {
    @TempDir
    Path dir;

    private CommandLineRun compare(Path backbones, Path out, String split) {
        return CommandLineRun.of("experiment", "compare", "--backbones", backbones.toString(), "--archs", "d,x", "--seeds", "1,2",
                "--stage1-steps", "1", "--stage2-steps", "1", "--samples", "1", "--text-samples", "1", "--split", split, "--out",
                out.toString(), "--progress", "off", "--json").expect(0);
    }

    @Test
    void comparesArchitecturesOverSeedsAndReusesTrainedRuns() throws Exception {
        Path bb = ExperimentRunsTest.backbones(dir.resolve("bb"));
        Path out = dir.resolve("compare");
        CommandLineRun first = compare(bb, out, "validation");
        Map<String, Object> json = Json.parseObject(first.out().strip());
        assertEquals("validation", json.get("split"));
        assertEquals(5L, json.get("world_seed"), "the backbones' world");
        assertEquals(List.of(1L, 2L), json.get("seeds"));
        for (String arch : List.of("d", "x")) {
            Map<?, ?> a = (Map<?, ?>) json.get(arch);
            for (String family : List.of("ocr", "counting", "spatial", "chart", "text_arithmetic", "text_string", "image_mean")) {
                Map<?, ?> stats = (Map<?, ?>) a.get(family);
                assertEquals(2L, stats.get("n"), arch + " " + family);
                double mean = ((Number) stats.get("mean")).doubleValue();
                double sd = ((Number) stats.get("sd")).doubleValue();
                assertTrue(mean >= 0 && mean <= 1 && sd >= 0 && sd <= 0.71, arch + " " + family + ": " + stats);
            }
            Map<?, ?> throughput = (Map<?, ?>) a.get("throughput");
            assertTrue(((Number) ((Map<?, ?>) throughput.get("stage2_samples_per_s")).get("mean")).doubleValue() > 0);
            Path run = out.resolve(arch + "-seed2");
            assertTrue(Files.isDirectory(run.resolve("stage2").resolve("model")), run.toString());
        }
        assertTrue(first.err().contains("training samples/s X/D"), first.err());
        assertTrue(Files.exists(out.resolve("compare-validation.json")));

        long stamp = Files.getLastModifiedTime(out.resolve("d-seed1").resolve("stage2").resolve("model").resolve("config.json")).toMillis();
        CommandLineRun again = compare(bb, out, "test");
        assertTrue(again.err().contains("D seed 1: trained before"), again.err());
        assertEquals(stamp, Files.getLastModifiedTime(out.resolve("d-seed1").resolve("stage2").resolve("model").resolve("config.json"))
                .toMillis(), "reused, not retrained");
        Map<?, ?> evaluations = (Map<?, ?>) Json.parseObject(Files.readString(out.resolve("x-seed1").resolve(CompareExperiment.RUN_JSON)))
                .get("evaluations");
        assertEquals(List.of("validation/world5/1+1", "test/world5/1+1"), List.copyOf(evaluations.keySet()));
    }

    @Test
    void taggedMemoryRunsLiveBesideThePlainOnesAndDIsShared() throws Exception {
        Path out = dir.resolve("compare");
        CommandLineRun tagged = compareWithAndWithout("d,x", "--tagged-memory", "tagged_memory", out);
        assertTrue(tagged.err().contains("D seed 1: trained before"), "D has no memory to tag: " + tagged.err());
        assertTrue(tagged.err().contains("X and H with tagged memory"), tagged.err());
        assertTrue(Files.readString(out.resolve("x-seed1-tagged").resolve("stage2").resolve("model").resolve("config.json"))
                .contains("\"tagged_memory\": true"));
        assertTrue(!Files.readString(out.resolve("x-seed1").resolve("stage2").resolve("model").resolve("config.json"))
                .contains("tagged_memory"));
        assertTrue(Files.exists(out.resolve("compare-validation.json")) && Files.exists(out.resolve("compare-validation-tagged.json")));
    }

    @Test
    void hWithTagsInItsSequenceLivesBesideThePlainHAndXIsShared() throws Exception {
        Path out = dir.resolve("compare");
        CommandLineRun seq = compareWithAndWithout("x,h", "--tags-in-sequence", "tags_in_sequence", out);
        assertTrue(seq.err().contains("X seed 1: trained before"), "X has its tags in its sequence already: " + seq.err());
        assertTrue(Files.readString(out.resolve("h-seed1-seqtags").resolve("stage2").resolve("model").resolve("config.json"))
                .contains("\"tags_in_sequence\": true"));
        assertTrue(!Files.readString(out.resolve("h-seed1").resolve("stage2").resolve("model").resolve("config.json"))
                .contains("tags_in_sequence"));
        assertTrue(Files.exists(out.resolve("compare-validation-seqtags.json")));
    }

    /**
     * One-step compare of {@code archs} into {@code out}, then again with {@code option}; the JSON's
     * {@code key} says which. Returns the second run.
     */
    private CommandLineRun compareWithAndWithout(String archs, String option, String key, Path out) throws Exception {
        Path bb = ExperimentRunsTest.backbones(dir.resolve("bb"));
        List<String> words = new java.util.ArrayList<>(List.of("experiment", "compare", "--backbones", bb.toString(), "--archs", archs,
                "--seeds", "1", "--stage1-steps", "1", "--stage2-steps", "1", "--samples", "1", "--text-samples", "1", "--split",
                "validation", "--out", out.toString(), "--progress", "off", "--json"));
        CommandLineRun plain = CommandLineRun.of(words.toArray(String[]::new)).expect(0);
        assertEquals(false, Json.parseObject(plain.out().strip()).get(key));
        words.add(option);
        CommandLineRun with = CommandLineRun.of(words.toArray(String[]::new)).expect(0);
        assertEquals(true, Json.parseObject(with.out().strip()).get(key));
        return with;
    }

    @Test
    void seedStatsIsTheMeanAndTheSampleStandardDeviation() {
        SeedStats s = SeedStats.of(List.of(0.5, 0.7, 0.9));
        assertEquals(0.7, s.mean(), 1e-12);
        assertEquals(0.2, s.sd(), 1e-12);
        assertEquals("70.0 +- 20.0%", s.percent());
        assertEquals("50.0% (n=1)", SeedStats.of(List.of(0.5)).percent());
        assertTrue(Double.isNaN(SeedStats.of(List.of(0.5, Double.NaN)).mean()));
    }

    @Test
    void overfitReportsLossAndExactMatchBeforeAndAfter() throws Exception {
        Path bb = ExperimentRunsTest.backbones(dir.resolve("bb"));
        CommandLineRun run = CommandLineRun.of("experiment", "overfit", "--arch", "h", "--examples", "2", "--steps", "2", "--backbones",
                bb.toString(), "--out", dir.resolve("overfit").toString(), "--progress", "off", "--json").expect(0);
        Map<String, Object> json = Json.parseObject(run.out().strip());
        assertEquals(List.of("arch", "examples", "steps", "loss_first", "loss_last", "exact_match_before", "exact_match_after"),
                List.copyOf(json.keySet()));
        assertEquals("h", json.get("arch"));
        assertTrue(((Number) json.get("loss_first")).doubleValue() > 0);
        double after = ((Number) json.get("exact_match_after")).doubleValue();
        assertTrue(after == 0 || after == 0.5 || after == 1, "2 examples: " + after);
        assertTrue(Files.exists(dir.resolve("overfit").resolve("results.json")));
    }

    @Test
    void badArgumentsAreRefusedNamingThem() {
        String err = CommandLineRun.of("experiment", "compare", "--archs", "d,q").expect(2).err();
        assertTrue(err.contains("--archs"), err);
        err = CommandLineRun.of("experiment", "compare", "--split", "dev").expect(2).err();
        assertTrue(err.contains("--split"), err);
        Path out = dir.resolve("not-made");
        err = CommandLineRun.of("experiment", "compare", "--stage2-lr-scale", "-1", "--out", out.toString()).expect(2).err();
        assertTrue(err.contains("--stage2-lr-scale"), err);
        assertTrue(!Files.exists(out), "nothing written for a refused command line");
        assertThrows(AssertionError.class, () -> CommandLineRun.of("experiment", "overfit", "--examples", "0").expect(0));
    }
}
