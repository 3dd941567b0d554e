package nvlm.trainer.cli;

import java.util.List;

/**
 * One subcommand of {@code ./nvlm}. Implementations register themselves in
 * {@code META-INF/services/nvlm.trainer.cli.Command}, so modules above the trainer (bench) add
 * subcommands without the trainer knowing them.
 */
public interface Command {
    /** The word after {@code ./nvlm}, e.g. {@code bench}. */
    String name();

    /** One line for {@code ./nvlm --help}. */
    String summary();

    /**
     * Runs the command. {@code args} are the words after the command name.
     *
     * @return the process exit status
     */
    int run(List<String> args) throws Exception;
}
