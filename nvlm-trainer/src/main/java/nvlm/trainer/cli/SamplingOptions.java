package nvlm.trainer.cli;

import java.util.List;
import nvlm.api.GenerationOptions;
import picocli.CommandLine.Option;

/** {@code --max-new-tokens}, {@code --temperature}, {@code --top-p}, {@code --seed}, for {@code @Mixin}: how a command generates. */
public final class SamplingOptions {
    @Option(names = "--max-new-tokens", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "stop after N tokens (default ${DEFAULT-VALUE})")
    int maxNewTokens = 64;
    @Option(names = "--temperature", paramLabel = "T", description = "0 = greedy (default); > 0 samples softmax(logits / T)")
    double temperature = 0;
    @Option(names = "--top-p", paramLabel = "P", description = "nucleus sampling mass (default ${DEFAULT-VALUE})")
    double topP = 1.0;
    @Option(names = "--seed", paramLabel = "S", description = "sampling seed (default ${DEFAULT-VALUE})")
    long seed = 0;

    /** These options, with no stop strings. */
    GenerationOptions options() {
        return new GenerationOptions(maxNewTokens, temperature, topP, List.of(), seed);
    }
}
