package nvlm.trainer.cli;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** Entry point of {@code ./nvlm}: dispatches to the registered {@link Command}s. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(List.of(args)));
    }

    /** Runs the command line and returns the exit status (0 ok, 1 failure, 2 usage error). */
    public static int run(List<String> args) {
        Map<String, Command> commands = commands();
        if (args.isEmpty() || args.getFirst().equals("--help") || args.getFirst().equals("-h")
                || args.getFirst().equals("help")) {
            printHelp(commands);
            return args.isEmpty() ? 2 : 0;
        }
        Command command = commands.get(args.getFirst());
        if (command == null) {
            System.err.println("nvlm: unknown command '" + args.getFirst() + "'. Commands: "
                    + String.join(", ", commands.keySet()) + ". See ./nvlm --help.");
            return 2;
        }
        try {
            return command.run(new ArrayList<>(args.subList(1, args.size())));
        } catch (UsageException e) {
            System.err.println("nvlm " + command.name() + ": " + e.getMessage());
            return 2;
        } catch (Exception e) {
            System.err.println("nvlm " + command.name() + ": " + describe(e));
            if (System.getenv("NVLM_DEBUG") != null) {
                e.printStackTrace();
            }
            return 1;
        }
    }

    private static String describe(Throwable e) {
        StringBuilder message = new StringBuilder(e.getMessage() == null ? e.toString() : e.getMessage());
        for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
            message.append("\n  caused by: ").append(cause.getMessage() == null ? cause.toString() : cause.getMessage());
        }
        return message.toString();
    }

    private static Map<String, Command> commands() {
        Map<String, Command> commands = new TreeMap<>();
        for (Command command : ServiceLoader.load(Command.class)) {
            Command previous = commands.put(command.name(), command);
            if (previous != null) {
                throw new IllegalStateException("two commands named '" + command.name() + "': "
                        + previous.getClass().getName() + " and " + command.getClass().getName());
            }
        }
        return commands;
    }

    private static void printHelp(Map<String, Command> commands) {
        System.out.println("usage: ./nvlm <command> [args]   (./nvlm <command> --help for its flags)");
        System.out.println();
        int width = commands.keySet().stream().map(String::length).max(Comparator.naturalOrder()).orElse(8);
        System.out.printf("  %-" + width + "s  %s%n", "shell", "jshell with the nvlm jars and API imported");
        for (Command command : commands.values()) {
            System.out.printf("  %-" + width + "s  %s%n", command.name(), command.summary());
        }
    }
}
