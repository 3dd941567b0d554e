package nvlm.trainer.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import nvlm.model.Batch;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.ModelFolder;
import nvlm.tensor.GradMode;
import nvlm.tensor.Tensor;
import nvlm.tensor.io.Safetensors;
import nvlm.tensor.nn.Parameter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./nvlm forward}: logits, loss and optionally every gradient of a batch (docs/model.md §10 parity files). */
@Command(name = "forward", header = "run a model on a batch file and write logits, loss and (--grads) every gradient",
        description = """
                Runs the model on a batch file (docs/model.md §10) and writes O.safetensors with `logits` F32 [B,T,V] and
                `loss` F32 [] (mean over labelled tokens after the shift); with --grads also `grad.<name>` F32 for
                every trainable parameter (all parameters of a freshly loaded model). The file is written to a
                temporary file and renamed, so a failure leaves nothing behind.""")
public final class ForwardCommand implements NvlmCommand {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "the model folder")
    Path model;
    @Option(names = "--batch", required = true, paramLabel = "B", description = "the batch file (./nvlm batch)")
    Path batch;
    @Option(names = "--out", required = true, paramLabel = "O", description = "the safetensors file to write")
    Path out;
    @Option(names = "--grads", description = "also run backward and write every gradient")
    boolean grads;
    @Mixin
    DeviceOption device;
    @Mixin
    ProgressOption progress;

    @Override
    public Integer call() throws Exception {
        Nvlm loaded = progress.loadModel(ModelFolder.open(model), device.device);
        Batch input = Batch.read(batch).to(device.device);
        Map<String, Tensor> result = new LinkedHashMap<>();
        Nvlm.Output output;
        if (grads) {
            output = loaded.forward(input);
            output.loss().backward();
        } else {
            try (var _ = GradMode.disabled()) {
                output = loaded.forward(input);
            }
        }
        result.put("logits", output.logits().detach());
        result.put("loss", output.loss().detach());
        if (grads) {
            for (Map.Entry<String, Parameter> e : loaded.namedParameters().entrySet()) {
                if (e.getValue().trainable() && e.getValue().grad() != null) {
                    result.put("grad." + e.getKey(), e.getValue().grad());
                }
            }
        }
        Safetensors.save(out, result);
        System.out.printf("wrote %s: logits %s, loss %.6f%s%n", out, Arrays.toString(output.logits().shape()),
                output.loss().item(), grads ? ", " + (result.size() - 2) + " gradients" : "");
        return 0;
    }
}
