package nvlm.trainer.experiment;

import nvlm.trainer.cli.Main;
import nvlm.trainer.cli.NvlmCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code ./nvlm experiment <name>}: the paper's claims at toy scale, each printing a table and,
 * with --json, one JSON object of its figures. A new experiment is one command class listed here.
 */
@Command(name = "experiment", header = "reproduce the paper's claims at toy scale (./nvlm experiment --help lists them)",
        description = "Each experiment prints a table and, with --json, one JSON object of its figures on stdout.",
        subcommands = {CompareExperiment.class, FrozenLlmExperiment.class, OverfitExperiment.class, TileTagsExperiment.class, TextMixExperiment.class, ThroughputExperiment.class})
public final class ExperimentCommand implements NvlmCommand {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return Main.usage(spec);
    }
}
