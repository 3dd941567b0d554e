package nvlm.trainer.cli;

import java.util.concurrent.Callable;

/**
 * A command of {@code ./nvlm}: a picocli {@code @Command} class whose {@code @Option} fields
 * declare its options and whose {@link #call} runs it and returns the exit status. Commands
 * register in {@code META-INF/services/nvlm.trainer.cli.NvlmCommand}, so modules above the
 * trainer (bench) add commands without the trainer knowing them (the package documentation says
 * how to write one). Subcommands of a command (experiments, benchmarks) are plain
 * {@code Callable<Integer>}s listed in its {@code @Command(subcommands = ...)}.
 */
public interface NvlmCommand extends Callable<Integer> {
}
