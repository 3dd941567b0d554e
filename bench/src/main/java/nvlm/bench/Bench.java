package nvlm.bench;

import nvlm.trainer.cli.Main;
import nvlm.trainer.cli.NvlmCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code ./nvlm bench <benchmark>}: benchmarks, each measured against a peer implementation in
 * the same run. A new benchmark is one command class listed here.
 */
@Command(name = "bench", header = "benchmarks against peers, in the same run; JSON lines on stdout (./nvlm bench --help lists them)",
        description = "Each benchmark prints one JSON line per measured case on stdout and notes on stderr.",
        subcommands = {GemmBench.class, TrainBench.class, GenerateBench.class, Stage0Bench.class, AllReduceBench.class})
public final class Bench implements NvlmCommand {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return Main.usage(spec);
    }
}
