package nvlm.trainer.cli;

import java.io.IOException;
import nvlm.model.checkpoint.ModelFolder;
import nvlm.model.Nvlm;
import nvlm.tensor.Device;
import nvlm.trainer.train.ProgressBar;
import picocli.CommandLine.Option;

/** {@code --progress}, for {@code @Mixin}: how long work shows how far it is and the time left, on stderr. */
public final class ProgressOption {
    @Option(names = "--progress", paramLabel = "M", defaultValue = "auto",
            description = "auto, bar, lines or off (default ${DEFAULT-VALUE}: a bar on a terminal, lines otherwise)")
    public ProgressBar.Mode mode;

    /** Reads a model folder's weights onto {@code device}, with a bar of the MiB read when that takes more than a moment. */
    public Nvlm loadModel(ModelFolder folder, Device device) throws IOException {
        ProgressBar[] bar = new ProgressBar[1];
        try {
            return folder.load(device, (bytes, total) -> {
                if (bar[0] == null) {
                    bar[0] = ProgressBar.counting(System.err, mode, "loading " + folder.dir(), total >> 20, "MiB");
                }
                bar[0].advanceTo(bytes >> 20);
            });
        } finally {
            if (bar[0] != null) {
                bar[0].finish();
            }
        }
    }
}
