package nvlm.trainer.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import nvlm.model.Batch;
import nvlm.model.ModelFolder;
import nvlm.model.Nvlm;
import nvlm.tensor.Device;
import nvlm.tensor.GradMode;
import nvlm.tensor.Tensor;
import nvlm.tensor.io.Safetensors;
import nvlm.tensor.nn.Parameter;

/** {@code ./nvlm forward}: logits, loss and optionally every gradient of a batch (docs/model.md §10 parity files). */
public final class ForwardCommand implements Command {
    private static final String USAGE = """
            usage: ./nvlm forward --model DIR --batch B.safetensors --out O.safetensors [--grads] [--device cpu|cuda]

            Runs the model on a batch file (docs/model.md §10) and writes O.safetensors with `logits` F32
            [B,T,V] and `loss` F32 [] (mean over labelled tokens after the shift); with --grads also
            `grad.<name>` F32 for every trainable parameter (all parameters of a freshly loaded model). The
            file is written to a temporary file and renamed, so a failure leaves nothing behind.
            """;

    @Override
    public String name() {
        return "forward";
    }

    @Override
    public String summary() {
        return "run a model on a batch file and write logits, loss and (--grads) every gradient";
    }

    @Override
    public int run(List<String> words) throws Exception {
        Args args = Args.parse(name(), words, Set.of("model", "batch", "out", "device"), Set.of("grads", "help"));
        if (args.has("help")) {
            System.out.print(USAGE);
            return 0;
        }
        Device device = Device.parse(args.get("device", "cpu"));
        ModelFolder folder = ModelFolder.open(Path.of(args.require("model")));
        Nvlm model = folder.load(device);
        Batch batch = Batch.read(Path.of(args.require("batch"))).to(device);
        Path out = Path.of(args.require("out"));
        boolean grads = args.has("grads");
        Map<String, Tensor> result = new LinkedHashMap<>();
        Nvlm.Output output;
        if (grads) {
            output = model.forward(batch);
            output.loss().backward();
        } else {
            try (var noGrad = GradMode.disabled()) {
                output = model.forward(batch);
            }
        }
        result.put("logits", output.logits().detach());
        result.put("loss", output.loss().detach());
        if (grads) {
            for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
                if (e.getValue().trainable() && e.getValue().grad() != null) {
                    result.put("grad." + e.getKey(), e.getValue().grad());
                }
            }
        }
        Safetensors.save(out, result);
        System.out.printf("wrote %s: logits %s, loss %.6f%s%n", out, java.util.Arrays.toString(output.logits().shape()),
                output.loss().item(), grads ? ", " + (result.size() - 2) + " gradients" : "");
        return 0;
    }
}
