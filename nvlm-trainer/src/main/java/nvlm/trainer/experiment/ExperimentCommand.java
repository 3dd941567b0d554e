package nvlm.trainer.experiment;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import nvlm.trainer.cli.Command;
import nvlm.trainer.cli.UsageException;

/**
 * {@code ./nvlm experiment <name>}: the paper's claims at toy scale, each printing a table and,
 * with --json, one JSON object of its figures. Experiments register through
 * {@code META-INF/services/nvlm.trainer.experiment.Experiment}.
 */
public final class ExperimentCommand implements Command {
    private static Map<String, Experiment> experiments() {
        Map<String, Experiment> all = new LinkedHashMap<>();
        for (Experiment e : ServiceLoader.load(Experiment.class)) {
            all.put(e.name(), e);
        }
        return all;
    }

    @Override
    public String name() {
        return "experiment";
    }

    @Override
    public String summary() {
        return "reproduce the paper's claims at toy scale (" + String.join(", ", experiments().keySet()) + ")";
    }

    @Override
    public int run(List<String> args) throws Exception {
        Map<String, Experiment> all = experiments();
        if (args.isEmpty() || args.getFirst().equals("--help") || args.getFirst().equals("-h")) {
            System.out.println("usage: ./nvlm experiment <name> [flags]   (./nvlm experiment <name> --help for its flags)");
            System.out.println();
            for (Experiment e : all.values()) {
                System.out.printf("  %-12s %s%n", e.name(), e.summary());
            }
            return args.isEmpty() ? 2 : 0;
        }
        Experiment e = all.get(args.getFirst());
        if (e == null) {
            throw new UsageException("unknown experiment '" + args.getFirst() + "'; known: " + String.join(", ", all.keySet()));
        }
        return e.run(args.subList(1, args.size()));
    }
}
