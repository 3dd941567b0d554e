package nvlm.trainer.cli;

import java.nio.file.Path;
import nvlm.model.checkpoint.FolderInspection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./nvlm inspect}: what a model folder is, without loading it. */
@Command(name = "inspect", header = "say what a model folder is and whether its weights are all there, without loading them",
        description = """
                Reads config.json (a published NVLM_D or internvl_chat config, or the project's), the weight index and the
                safetensors headers of the shards that are present; allocates no model and reads no weight. Every tensor the
                model expects is listed with its shape and dtype and marked present or not; a folder with missing shards is
                still inspected. Exit status 0 when the folder is complete, 3 when tensors are missing, unexpected or
                mis-shaped.""")
public final class InspectCommand implements NvlmCommand {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "the model folder")
    Path model;
    @Option(names = "--json", description = "print one JSON object: architecture, parameters, bytes, tensors (name -> shape, dtype,"
            + " present) and the checks")
    boolean json;

    @Override
    public Integer call() throws Exception {
        FolderInspection in = FolderInspection.of(model);
        System.out.print(json ? in.toJson() + "\n" : in.summary());
        return in.complete() ? 0 : 3;
    }
}
