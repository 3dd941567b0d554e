package nvlm.trainer.cli;

/**
 * A command line that parses but cannot run as written (options that contradict each other, a
 * missing choice); printed without a stack trace, exit status 2. The message names the options.
 */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
