package nvlm.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nvlm.trainer.cli.Command;
import nvlm.trainer.cli.UsageException;

/**
 * {@code ./nvlm bench <subcommand>}: benchmarks, each measured against a peer implementation in
 * the same run. A new benchmark is one {@link Subcommand} and one line in {@link #SUBCOMMANDS}.
 */
public final class Bench implements Command {
    /** One benchmark: {@code ./nvlm bench <name> [flags]}. */
    public interface Subcommand {
        /** One line for {@code ./nvlm bench --help}. */
        String summary();

        /** Runs with the words after the subcommand name; returns the exit status. */
        int run(List<String> args) throws Exception;
    }

    private static final Map<String, Subcommand> SUBCOMMANDS = new LinkedHashMap<>();

    static {
        SUBCOMMANDS.put("gemm", new GemmBench());
        SUBCOMMANDS.put("train", new TrainBench());
    }

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "benchmarks against peers (" + String.join(", ", SUBCOMMANDS.keySet()) + "); JSON lines on stdout";
    }

    @Override
    public int run(List<String> args) throws Exception {
        if (args.isEmpty() || args.getFirst().equals("--help") || args.getFirst().equals("-h")) {
            System.out.println("usage: ./nvlm bench <benchmark> [flags]   (./nvlm bench <benchmark> --help for its flags)");
            System.out.println();
            System.out.println("Each benchmark prints one JSON line per measured case on stdout and notes on stderr.");
            System.out.println();
            int width = SUBCOMMANDS.keySet().stream().mapToInt(String::length).max().orElse(8);
            for (Map.Entry<String, Subcommand> entry : SUBCOMMANDS.entrySet()) {
                System.out.printf("  %-" + width + "s  %s%n", entry.getKey(), entry.getValue().summary());
            }
            return args.isEmpty() ? 2 : 0;
        }
        Subcommand subcommand = SUBCOMMANDS.get(args.getFirst());
        if (subcommand == null) {
            throw new UsageException("unknown benchmark '" + args.getFirst() + "'. Benchmarks: "
                    + String.join(", ", SUBCOMMANDS.keySet()) + ". See ./nvlm bench --help.");
        }
        return subcommand.run(args.subList(1, args.size()));
    }
}
