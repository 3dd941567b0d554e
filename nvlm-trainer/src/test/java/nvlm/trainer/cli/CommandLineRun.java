package nvlm.trainer.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One {@code ./nvlm} command line run in this JVM through {@link Main#run}, with what it printed.
 *
 * @param status the exit status
 * @param out    what it printed on stdout
 * @param err    what it printed on stderr
 */
public record CommandLineRun(int status, String out, String err) {
    /** Runs {@code words} (what follows {@code ./nvlm}) with stdout and stderr captured. */
    public static CommandLineRun of(String... words) {
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            status = Main.run(List.of(words));
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
        return new CommandLineRun(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** This run, after checking it ended with {@code expected}; the message shows what it printed. */
    public CommandLineRun expect(int expected) {
        if (status != expected) {
            throw new AssertionError("exit status " + status + ", expected " + expected + "\nstdout:\n" + out + "\nstderr:\n" + err);
        }
        return this;
    }
}
