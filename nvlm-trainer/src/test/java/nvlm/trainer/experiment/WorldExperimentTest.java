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
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import nvlm.trainer.cli.Args;
import nvlm.trainer.cli.UsageException;
import nvlm.trainer.pipeline.DemoRecipe;
import nvlm.trainer.train.ProgressBar;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The flags of tile-tags and text-mix: every one documented, parsed, checked; and the run folder's rules. */
class WorldExperimentTest {
    @TempDir
    Path dir;

    private static WorldExperiment parse(String name, String... words) {
        Args args = Args.parse("experiment " + name, List.of(words), WorldExperiment.VALUED, WorldExperiment.SWITCHES);
        return WorldExperiment.of(name, args, 200, 400);
    }

    @Test
    void helpExplainsEveryFlag() throws Exception {
        Set<String> flags = new TreeSet<>(WorldExperiment.VALUED);
        flags.addAll(WorldExperiment.SWITCHES);
        for (String usage : List.of(TileTagsExperiment.USAGE, TextMixExperiment.USAGE)) {
            for (String flag : flags) {
                assertTrue(usage.contains("\n  --" + flag + " "), "--" + flag + " is not explained in\n" + usage);
            }
        }
        assertTrue(TileTagsExperiment.USAGE.contains("\"2d_bbox\""));
        assertTrue(TextMixExperiment.USAGE.contains("\"sft_without_text\""));
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true));
        try {
            assertEquals(0, new TileTagsExperiment().run(List.of("--help")));
            assertEquals(0, new TextMixExperiment().run(List.of("--help")));
        } finally {
            System.setOut(stdout);
        }
        assertEquals(TileTagsExperiment.USAGE + TextMixExperiment.USAGE, printed.toString());
    }

    @Test
    void defaultsAreTheDemoRecipesStepCounts() {
        WorldExperiment w = parse("tile-tags");
        DemoRecipe demo = DemoRecipe.of(WorldExperiment.ARCH, 1);
        assertEquals(demo.stage1().totalSteps(), w.recipe().stage1().totalSteps());
        assertEquals(demo.stage2().totalSteps(), w.recipe().stage2().totalSteps());
        assertEquals(demo.stage2().textOnlyRatio(), w.recipe().stage2().textOnlyRatio());
        assertEquals(200, w.recipe().evalSamples());
        assertEquals(400, w.recipe().textEvalSamples());
        assertEquals(1, w.seed());
        assertNull(w.backbones());
        assertEquals(Path.of("runs", "experiment-tile-tags"), w.out());
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
            assertThrows(UsageException.class, () -> parse("tile-tags", words), String.join(" ", words));
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
