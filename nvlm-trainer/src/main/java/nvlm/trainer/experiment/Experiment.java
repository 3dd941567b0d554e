package nvlm.trainer.experiment;

import java.util.List;

/** One {@code ./nvlm experiment <name>}: reproduces a claim of the paper at toy scale. */
public interface Experiment {
    String name();

    String summary();

    int run(List<String> args) throws Exception;
}
