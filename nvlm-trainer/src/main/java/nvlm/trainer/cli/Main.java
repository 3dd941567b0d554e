package nvlm.trainer.cli;

import static picocli.CommandLine.Model.UsageMessageSpec.SECTION_KEY_HEADER;
import static picocli.CommandLine.Model.UsageMessageSpec.SECTION_KEY_HEADER_HEADING;
import static picocli.CommandLine.Model.UsageMessageSpec.SECTION_KEY_SYNOPSIS;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ResourceBundle;
import java.util.ServiceLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Entry point of {@code ./nvlm}: one picocli tree holds every command, the experiments (under
 * {@code experiment}) and the benchmarks (under {@code bench}); this class dispatches, gives each
 * command {@code -h/--help} and {@code --version}, and turns outcomes into exit statuses.
 */
@Command(name = "nvlm", subcommands = HelpCommand.class,
        description = "NVLM-D, NVLM-X and NVLM-H on the JVM: train, evaluate and run them.",
        footer = {"", "./nvlm shell opens jshell with the nvlm jars and the API imported (the launcher starts it).",
                "./nvlm <command> --help shows a command's options."})
public final class Main implements NvlmCommand {
    /** Exit status of a command line that cannot run as written (an unknown option, a bad value). */
    public static final int USAGE_ERROR = 2;
    /** Exit status of a command that ran and failed. */
    public static final int FAILURE = 1;

    public static void main(String[] args) {
        System.exit(run(List.of(args)));
    }

    /**
     * Runs the command line and returns the exit status (0 ok, 1 failure, 2 usage error). Nothing
     * escapes as a stack trace: an {@link Error} (out of memory, a class that failed to initialise
     * from a bad {@code NVLM_THREADS}, a fault reading a mapped file that was truncated) becomes
     * one line with a hint, as exceptions do; {@code NVLM_DEBUG=1} adds the stack trace.
     */
    public static int run(List<String> args) {
        try {
            nvlm.kernels.Parallel.threads();
        } catch (ExceptionInInitializerError | NoClassDefFoundError e) {
            // a bad NVLM_THREADS: the thread pool is set up once, so this is where it is said
            System.err.println("nvlm: " + describe(e));
            return USAGE_ERROR;
        }
        try {
            return commandLine(args).execute(args.toArray(String[]::new));
        } catch (Throwable e) {
            return report(args.isEmpty() ? "nvlm" : "nvlm " + args.getFirst(), e);
        }
    }

    @Spec
    CommandSpec spec;

    /** {@code ./nvlm} alone: the list of commands, as a usage error. */
    @Override
    public Integer call() {
        return usage(spec);
    }

    /**
     * Prints {@code command}'s help on stdout and returns {@link #USAGE_ERROR}: what a command
     * group given no subcommand, or a command given nothing to do, answers.
     */
    public static int usage(CommandSpec command) {
        command.commandLine().usage(System.out);
        return USAGE_ERROR;
    }

    /** The whole tree: this root, every {@link NvlmCommand} found by ServiceLoader (sorted by name), and theirs. */
    public static CommandLine commandLine() {
        return commandLine(List.of());
    }

    /**
     * The tree {@code args} need: only the command they name (or ask help for), since reading every
     * command's options takes most of a second; every command for the list, an unknown name and tests.
     */
    static CommandLine commandLine(List<String> args) {
        CommandLine root = new CommandLine(new Main());
        String named = args.size() > 1 && args.getFirst().equals("help") ? args.get(1) : args.isEmpty() ? "" : args.getFirst();
        List<ServiceLoader.Provider<NvlmCommand>> commands = ServiceLoader.load(NvlmCommand.class).stream()
                .sorted(Comparator.comparing(Main::name)).toList();
        boolean one = commands.stream().anyMatch(c -> name(c).equals(named));
        commands.stream().filter(c -> !one || name(c).equals(named)).forEach(c -> root.addSubcommand(c.get()));
        configure(root);
        OptionTypes.register(root);
        // Repeating an option keeps the last value, and words starting with '@' are words, not argument files.
        root.setOverwrittenOptionsAllowed(true).setExpandAtFiles(false)
                .setParameterExceptionHandler(Main::usageError).setExecutionExceptionHandler(Main::failure);
        return root;
    }

    private static String name(ServiceLoader.Provider<NvlmCommand> command) {
        return command.type().getAnnotation(Command.class).name();
    }

    /** What every command gets: -h/--help, --version, and one help layout (usage line, summary, description, options). */
    private static void configure(CommandLine command) {
        CommandSpec spec = command.getCommandSpec();
        spec.mixinStandardHelpOptions(true);
        spec.versionProvider(new Version());
        spec.usageMessage().width(110).sortOptions(false).descriptionHeading("%n").commandListHeading("%nCommands:%n");
        if (spec.usageMessage().optionListHeading().isEmpty()) {
            spec.usageMessage().optionListHeading("%n");
        }
        List<String> sections = new ArrayList<>(command.getHelpSectionKeys());
        sections.removeAll(List.of(SECTION_KEY_HEADER_HEADING, SECTION_KEY_HEADER));
        sections.addAll(sections.indexOf(SECTION_KEY_SYNOPSIS) + 1, List.of(SECTION_KEY_HEADER_HEADING, SECTION_KEY_HEADER));
        command.setHelpSectionKeys(sections);
        command.getSubcommands().values().forEach(Main::configure);
    }

    private static int usageError(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        String name = command.getCommandSpec().qualifiedName();
        String message = e.getMessage();
        List<String> unmatched = command.getUnmatchedArguments();
        if (!(e instanceof UnmatchedArgumentException) && !unmatched.isEmpty()) {
            // picocli checks required options first; a mistyped option is the likelier cause, so it is named first
            message = (unmatched.getFirst().startsWith("-") ? "Unknown option: '" : "Unmatched argument: '") + unmatched.getFirst() + "'";
        } else if (e instanceof UnmatchedArgumentException u && !command.getSubcommands().isEmpty() && !u.getUnmatched().isEmpty()
                && !u.getUnmatched().getFirst().startsWith("-")) {
            message = "unknown command '" + u.getUnmatched().getFirst() + "'; commands: "
                    + String.join(", ", command.getSubcommands().keySet().stream().filter(n -> !n.equals("help")).toList());
        }
        System.err.println(name + ": " + message + " (see ./" + name + " --help)");
        return USAGE_ERROR;
    }

    private static int failure(Exception e, CommandLine command, ParseResult parsed) {
        return report(command.getCommandSpec().qualifiedName(), e);
    }

    private static int report(String command, Throwable e) {
        System.err.println(command + ": " + describe(e));
        if (System.getenv("NVLM_DEBUG") != null && !System.getenv("NVLM_DEBUG").isEmpty()) {
            e.printStackTrace();
        }
        return status(e);
    }

    /** Usage errors (a bad option, a bad NVLM_THREADS) exit with 2, everything else with 1. */
    static int status(Throwable e) {
        Throwable root = initialisationCause(e);
        return root instanceof UsageException || root instanceof ParameterException ? USAGE_ERROR : FAILURE;
    }

    /** The message a user sees: the failure and its causes, with a hint for the JVM's own errors. */
    static String describe(Throwable e) {
        Throwable shown = initialisationCause(e);
        StringBuilder message = new StringBuilder(switch (shown) {
            case OutOfMemoryError oom -> "out of memory (" + oom.getMessage() + ", heap limit "
                    + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB): raise NVLM_HEAP (for example NVLM_HEAP=12g),"
                    + " or lower --batch, --max-new-tokens or the number of images";
            case InternalError internal when String.valueOf(internal.getMessage()).contains("fault occurred") ->
                    "a memory-mapped file was truncated or changed while it was read (" + internal.getMessage()
                            + "): a weight or batch file was overwritten during the run; restore it and run again";
            case StackOverflowError _ -> "stack overflow: the input nests too deeply (a JSON file with thousands of"
                    + " nested arrays or objects?)";
            default -> shown.getMessage() == null ? shown.toString() : shown.getMessage();
        });
        for (Throwable cause = shown.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
            message.append("\n  caused by: ").append(cause.getMessage() == null ? cause.toString() : cause.getMessage());
        }
        return message.toString();
    }

    /**
     * What failed inside a static initialiser: {@code ExceptionInInitializerError} the first time,
     * {@code NoClassDefFoundError "Could not initialize class"} (whose cause is the first one) after.
     */
    private static Throwable initialisationCause(Throwable e) {
        Throwable t = e;
        for (int i = 0; i < 8 && t.getCause() != null && (t instanceof ExceptionInInitializerError
                || t instanceof NoClassDefFoundError || t instanceof java.util.concurrent.ExecutionException); i++) {
            t = t.getCause();
        }
        if (t instanceof NoClassDefFoundError && t.getCause() == null && t.getMessage() != null
                && t.getMessage().startsWith("Could not initialize class")) {
            return new IllegalStateException(t.getMessage() + " (an earlier error in its setup; run with NVLM_DEBUG=1)");
        }
        return t;
    }

    /** {@code --version}: the build's version (filtered into version.properties by Maven) and the Java runtime. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"nvlm-java " + ResourceBundle.getBundle("nvlm.trainer.cli.version").getString("version"),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")"};
        }
    }
}
