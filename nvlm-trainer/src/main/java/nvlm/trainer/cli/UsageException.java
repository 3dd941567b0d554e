package nvlm.trainer.cli;

/** A command line that cannot be run as written; printed without a stack trace, exit status 2. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
