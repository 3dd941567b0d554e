package nvlm.trainer.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import nvlm.trainer.cli.CommandLineRun;
import nvlm.trainer.cli.Main;
import nvlm.trainer.recipe.DemoRecipe;
import nvlm.trainer.train.ProgressBar;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.ParseResult;

/** The options of tile-tags and text-mix: their defaults, parsed, checked; and the run folder's rules. */
class WorldExperimentTest {
    @TempDir
    Path dir;

    /** The settings ./nvlm experiment NAME WORDS... would run with. */
    private static WorldExperiment parse(String name, String... words) {
        List<String> all = new ArrayList<>(List.of("experiment", name));
        all.addAll(List.of(words));
        ParseResult parsed = Main.commandLine().parseArgs(all.toArray(String[]::new));
        Object experiment = parsed.subcommand().subcommand().commandSpec().userObject();
        return (experiment instanceof TileTagsExperiment t ? t.options : ((TextMixExperiment) experiment).options).settings();
    }

    @Test
    void helpShowsEachExperimentsOwnDefaults() {
        String tileTags = CommandLineRun.of("experiment", "tile-tags", "--help").expect(0).out();
        assertTrue(tileTags.contains("\"2d_bbox\"") && tileTags.contains("(default runs/experiment-tile-tags)"), tileTags);
        assertTrue(tileTags.contains("test examples per text-only family (default 0)"), tileTags);
        String textMix = CommandLineRun.of("experiment", "text-mix", "--help").expect(0).out();
        assertTrue(textMix.contains("\"sft_without_text\"") && textMix.contains("(default runs/experiment-text-mix)"), textMix);
        assertTrue(textMix.contains("test examples per text-only family (default 400)"), textMix);
    }

    @Test
    void defaultsAreTheDemoRecipesStepCounts() {
        WorldExperiment w = parse("text-mix");
        DemoRecipe demo = DemoRecipe.of(WorldExperiment.ARCH, 1);
        assertEquals(demo.stage1().totalSteps(), w.recipe().stage1().totalSteps());
        assertEquals(demo.stage2().totalSteps(), w.recipe().stage2().totalSteps());
        assertEquals(demo.stage2().textOnlyRatio(), w.recipe().stage2().textOnlyRatio());
        assertEquals(200, w.recipe().evalSamples());
        assertEquals(400, w.recipe().textEvalSamples());
        assertEquals(0, parse("tile-tags").recipe().textEvalSamples(), "tile-tags leaves text-only families out");
        assertEquals(1, w.seed());
        assertNull(w.backbones());
        assertEquals(Path.of("runs", "experiment-text-mix"), w.out());
        assertFalse(w.json());
        assertEquals(System.out, w.log());
    }

    @Test
    void flagsSetStepsSamplesSeedFoldersProgressAndJson() {
        WorldExperiment w = parse("text-mix", "--backbones", "/tmp/bb", "--stage1-steps", "3", "--stage2-steps=4", "--samples", "5",
                "--text-samples", "6", "--seed", "7", "--out", "/tmp/o", "--progress", "off", "--json");
        assertEquals(3, w.recipe().stage1().totalSteps());
        assertEquals(4, w.recipe().stage2().totalSteps());
        assertEquals(5, w.recipe().evalSamples());
        assertEquals(6, w.recipe().textEvalSamples());
        assertEquals(7, w.seed());
        assertEquals(DemoRecipe.of(WorldExperiment.ARCH, 7).stage1().seed(), w.recipe().stage1().seed());
        assertEquals(Path.of("/tmp/bb"), w.backbones());
        assertEquals(Path.of("/tmp/o"), w.out());
        assertEquals(ProgressBar.Mode.OFF, w.progress());
        assertTrue(w.json());
        assertEquals(System.err, w.log(), "with --json stdout carries only the JSON");
    }

    @Test
    void badFlagsAreUsageErrors() {
        for (String[] words : List.of(new String[] {"--stage1-steps", "0"}, new String[] {"--stage2-steps", "-1"},
                new String[] {"--samples", "-1"}, new String[] {"--text-samples", "x"}, new String[] {"--progress", "loud"},
                new String[] {"--bogus"}, new String[] {"extra"}, new String[] {"--seed"})) {
            List<String> all = new ArrayList<>(List.of("experiment", "tile-tags"));
            all.addAll(List.of(words));
            CommandLineRun run = CommandLineRun.of(all.toArray(String[]::new)).expect(Main.USAGE_ERROR);
            assertTrue(run.err().startsWith("nvlm experiment tile-tags: "), run.err());
        }
    }

    @Test
    void aFolderThatIsNotAnExperimentsIsRefusedAndAnEarlierRunsStagesAreReplaced() throws Exception {
        Path backbones = ExperimentRunsTest.backbones(dir.resolve("bb"));
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        Files.writeString(other.resolve("notes.txt"), "mine");
        WorldExperiment refused = new WorldExperiment("tile-tags", backbones, DemoRecipe.of(WorldExperiment.ARCH, 1), 1, other,
                ProgressBar.Mode.OFF, false, new PrintStream(new ByteArrayOutputStream()));
        assertThrows(IllegalArgumentException.class, () -> refused.start(List.of("1d")));
        assertTrue(Files.exists(other.resolve("notes.txt")));

        Path out = dir.resolve("out");
        WorldExperiment w = new WorldExperiment("tile-tags", backbones, DemoRecipe.of(WorldExperiment.ARCH, 1), 1, out,
                ProgressBar.Mode.OFF, false, new PrintStream(new ByteArrayOutputStream()));
        assertEquals(5, w.start(List.of("1d")).worldSeed(), "the world seed is the backbones'");
        Files.createDirectories(out.resolve("1d").resolve("stage1"));
        Files.writeString(out.resolve(WorldExperiment.RESULTS), "{}");
        w.start(List.of("1d"));
        assertFalse(Files.exists(out.resolve("1d")));
        assertFalse(Files.exists(out.resolve(WorldExperiment.RESULTS)));
        assertTrue(Files.exists(out.resolve(WorldExperiment.EXPERIMENT_JSON)));
    }
}
