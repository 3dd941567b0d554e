package nvlm.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** What every command of ./nvlm does alike: help, version, unknown options, bad values, exit statuses. */
class CommandLineTest {
    /** Every command of the tree, as the words after ./nvlm ("experiment tile-tags"), help excepted. */
    private static List<CommandSpec> commands() {
        List<CommandSpec> all = new ArrayList<>();
        collect(Main.commandLine().getSubcommands().values(), all);
        return all;
    }

    private static void collect(Collection<CommandLine> commands, List<CommandSpec> into) {
        for (CommandLine command : commands) {
            if (!command.getCommandName().equals("help")) {
                into.add(command.getCommandSpec());
                collect(command.getSubcommands().values(), into);
            }
        }
    }

    private static String[] words(CommandSpec command, String... more) {
        List<String> words = new ArrayList<>(Arrays.asList(command.qualifiedName().split(" ")).subList(1,
                command.qualifiedName().split(" ").length));
        words.addAll(List.of(more));
        return words.toArray(String[]::new);
    }

    @Test
    void theTreeHoldsTheCommandsTheExperimentsAndTheBenchmarksOfThisModule() {
        List<String> names = commands().stream().map(CommandSpec::qualifiedName).toList();
        for (String name : List.of("nvlm demo", "nvlm pretrain-backbones", "nvlm train", "nvlm eval", "nvlm init", "nvlm batch",
                "nvlm forward", "nvlm chat", "nvlm generate", "nvlm inspect", "nvlm serve", "nvlm tiles", "nvlm kernels", "nvlm experiment", "nvlm experiment tile-tags",
                "nvlm experiment text-mix", "nvlm experiment throughput")) {
            assertTrue(names.contains(name), name + " in " + names);
        }
    }

    @Test
    void everyCommandTakesHelpAndVersionAndRejectsAnUnknownOption() {
        for (CommandSpec command : commands()) {
            String name = command.qualifiedName();
            for (String help : List.of("--help", "-h")) {
                CommandLineRun run = CommandLineRun.of(words(command, help)).expect(0);
                assertTrue(run.out().startsWith("Usage: " + name), name + " " + help + ":\n" + run.out());
            }
            assertTrue(CommandLineRun.of(words(command, "--version")).expect(0).out().startsWith("nvlm-java "), name);
            CommandLineRun unknown = CommandLineRun.of(words(command, "--no-such-option")).expect(Main.USAGE_ERROR);
            assertEquals(name + ": Unknown option: '--no-such-option' (see ./" + name + " --help)\n", unknown.err(), name);
        }
    }

    @Test
    void everyOptionWithADefaultSaysItInTheHelp() {
        for (CommandSpec command : commands()) {
            for (OptionSpec option : command.options()) {
                Object initial = option.initialValue();
                boolean hasDefault = option.defaultValue() != null || initial != null && !Boolean.FALSE.equals(initial)
                        && !(initial instanceof Collection<?> c && c.isEmpty());
                if (hasDefault && !option.required() && !option.usageHelp() && !option.versionHelp()) {
                    String help = String.join(" ", option.description());
                    assertTrue(help.contains("default"), command.qualifiedName() + " " + option.longestName() + ": " + help);
                }
            }
        }
    }

    @Test
    void badValuesAreUsageErrorsNamingTheOptionAndWhatWasExpected() {
        assertBadValue("--samples", "must be >= 0, got -1", "eval", "--model", "m", "--samples", "-1");
        assertBadValue("--samples", "expected an integer, got 'x'", "eval", "--model", "m", "--samples", "x");
        assertBadValue("--split", "unknown split 'dev': expected train, validation or test", "eval", "--model", "m", "--split", "dev");
        assertBadValue("--view", "expected image, described, cells or rows, got 'thumbnail'", "eval", "--model", "m", "--view", "thumbnail");
        assertBadValue("--families", "unknown", "eval", "--model", "m", "--families", "ocr,nonsense");
        assertBadValue("--arch", "expected D, X or H", "demo", "--arch", "q");
        assertBadValue("--stage1-steps", "must be >= 1, got 0", "demo", "--stage1-steps", "0");
        assertBadValue("--device", "unknown device 'tpu' (expected cpu or cuda)", "train", "--device", "tpu");
        assertBadValue("--progress", "expected auto, bar, lines or off, got 'loud'", "train", "--progress", "loud");
        assertBadValue("--recipe", "expected demo, toy or paper, got 'best'", "train", "--recipe", "best");
        assertBadValue("--keep", "must be >= 1, got 0", "train", "--keep", "0");
        assertBadValue("--lr", "'fast' is not a double", "train", "--lr", "fast");
        assertBadValue("--dtype", "expected f32, bf16 or f16, got 'f64'", "init", "--arch", "d", "--out", "o", "--dtype", "f64");
        assertBadValue("--rounds", "must be >= 1, got 0", "experiment", "throughput", "--rounds", "0");
        assertBadValue("--samples", "must be >= 0, got -1", "experiment", "tile-tags", "--samples", "-1");
    }

    private static void assertBadValue(String option, String expected, String... words) {
        String err = CommandLineRun.of(words).expect(Main.USAGE_ERROR).err();
        assertTrue(err.contains("Invalid value for option '" + option + "'") && err.contains(expected), err);
    }

    @Test
    void missingValuesRequiredOptionsAndStrayWordsAreUsageErrors() {
        assertTrue(CommandLineRun.of("eval", "--model").expect(2).err().contains("Missing required parameter for option '--model'"));
        assertTrue(CommandLineRun.of("eval").expect(2).err().contains("Missing required option: '--model=DIR'"));
        assertTrue(CommandLineRun.of("pretrain-backbones").expect(2).err().contains("'--seed=S'"));
        assertTrue(CommandLineRun.of("demo", "extra").expect(2).err().contains("'extra'"));
        assertTrue(CommandLineRun.of("chat").expect(2).err().contains("'--model=DIR'"));
        assertTrue(CommandLineRun.of("chat", "--model", "m", "one", "two").expect(2).err().contains("'two'"));
        CommandLineRun kernels = CommandLineRun.of("kernels").expect(2);
        assertTrue(kernels.out().startsWith("Usage: nvlm kernels"), "nothing to do: the usage, as an error:\n" + kernels.out());
    }

    @Test
    void theCommandListAndTheGroupsAnswerAloneWithTheirUsageAsAnError() {
        CommandLineRun alone = CommandLineRun.of().expect(2);
        assertTrue(alone.out().contains("train") && alone.out().contains("experiment") && alone.out().contains("shell"), alone.out());
        assertEquals(alone.out(), CommandLineRun.of("--help").expect(0).out());
        assertEquals(alone.out(), CommandLineRun.of("help").expect(0).out());
        assertEquals(CommandLineRun.of("eval", "--help").out(), CommandLineRun.of("help", "eval").expect(0).out());
        assertEquals(Main.commandLine().getSubcommands().get("eval").getUsageMessage(), CommandLineRun.of("eval", "--help").out(),
                "a run builds only the command it names, configured as in the whole tree");
        assertTrue(CommandLineRun.of("experiment").expect(2).out().contains("tile-tags"));
        String unknown = CommandLineRun.of("frob").expect(2).err();
        assertTrue(unknown.startsWith("nvlm: unknown command 'frob'; commands: ") && unknown.contains("train"), unknown);
        unknown = CommandLineRun.of("experiment", "nope").expect(2).err();
        assertTrue(unknown.startsWith("nvlm experiment: unknown command 'nope'; commands: compare, frozen-llm, overfit, tile-tags, text-mix, throughput"), unknown);
    }

    @Test
    void aCommandThatFailsExitsWithOneAndSaysWhy() {
        CommandLineRun run = CommandLineRun.of("eval", "--model", "/no/such/folder").expect(Main.FAILURE);
        assertTrue(run.err().startsWith("nvlm eval: ") && run.err().contains("/no/such/folder"), run.err());
    }
}
