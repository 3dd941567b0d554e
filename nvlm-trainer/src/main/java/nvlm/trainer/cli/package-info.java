/**
 * The {@code ./nvlm} command line, on picocli: each option is declared once, as an annotated field
 * (name, value type, default, help), and parsing, checking, {@code --help} and the error for a bad
 * value all follow from that declaration.
 *
 * <p>{@link nvlm.trainer.cli.Main} is the one dispatcher: the commands found through
 * {@code ServiceLoader} ({@link nvlm.trainer.cli.NvlmCommand}), the experiments under
 * {@code experiment} and the benchmarks under {@code bench} (the bench module registers that
 * command). It gives every command {@code -h/--help} and {@code --version}, registers the
 * project's value types ({@link nvlm.trainer.cli.OptionTypes}), and sets the exit status: 0 done,
 * 1 failed (the message and its causes on stderr; {@code NVLM_DEBUG=1} adds the stack trace),
 * 2 usage error (an unknown option, a bad or missing value, or a {@link nvlm.trainer.cli.UsageException}
 * for options that contradict each other), 130 interrupted training.
 *
 * <h2>Adding a command</h2>
 * One small class: the options as fields, the work in {@code call()}, which returns the exit
 * status and leaves the domain logic to the package that owns it.
 * <pre>
 * &#64;Command(name = "inspect", header = "one line for ./nvlm --help",
 *         description = "What it does, in a paragraph or two.")
 * public final class InspectCommand implements NvlmCommand {
 *     &#64;Option(names = "--model", required = true, paramLabel = "DIR", description = "the model folder")
 *     Path model;
 *     &#64;Option(names = "--top", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
 *             description = "how many to show (default ${DEFAULT-VALUE})")
 *     int top = 10;                 // the initial value is the default, and --help shows it
 *     &#64;Mixin
 *     DeviceOption device;          // --device, as every command that runs a model has it
 *     &#64;Mixin
 *     ProgressOption progress;      // --progress; progress.loadModel(...) shows the time left
 *
 *     &#64;Override
 *     public Integer call() throws Exception {
 *         Nvlm nvlm = progress.loadModel(ModelFolder.open(model), device.device);
 *         ...
 *         return 0;
 *     }
 * }
 * </pre>
 * and its name in {@code META-INF/services/nvlm.trainer.cli.NvlmCommand} (the module's own
 * services file: the trainer's, or the bench's for a command that lives there). An experiment or
 * a benchmark is the same class implementing {@code Callable<Integer>}, listed in
 * {@code subcommands} of {@link nvlm.trainer.experiment.ExperimentCommand} or
 * {@code nvlm.bench.Bench}. Conventions: a field's type is its value type (the project's types,
 * such as {@code Architecture}, {@code Split} or {@code Device}, are read by their own parsers);
 * counts that must be positive take {@code converter = OptionTypes.AtLeastOne.class}; every
 * option with a default says it in its help (a test checks); an option whose absence means
 * something else (take it from the model folder) is a boxed type left null; long work shows a
 * {@code ProgressBar} with the time left on stderr; stdout carries only the result.
 * {@code CommandLineTest} checks every command for help, version and unknown options.
 */
package nvlm.trainer.cli;
