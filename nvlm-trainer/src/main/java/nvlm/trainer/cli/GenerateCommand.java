package nvlm.trainer.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nvlm.api.Completion;
import nvlm.api.GenerationOptions;
import nvlm.api.ImageInput;
import nvlm.api.VisionLanguageModel;
import nvlm.tensor.io.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./nvlm generate}: raw completion of a prompt, no chat template. */
@Command(name = "generate", header = "complete a raw prompt (no chat template); <image> marks where each --image goes",
        description = """
                Each <image> in the prompt becomes the next --image in the folder's own image layout (NVLM-D: <Image>, tile
                tags and <|vision_pad|> tokens; InternVL2: <img> and <IMG_CONTEXT> tokens), then the text is tokenized and
                continued until the end-of-turn token or --max-new-tokens.""")
public final class GenerateCommand implements NvlmCommand {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "a model folder (published or the project's)")
    Path model;
    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "the prompt, with one <image> per --image")
    String prompt;
    @Option(names = "--image", paramLabel = "F", description = "an image (PNG, JPEG, BMP, GIF); repeat for several, in order")
    List<Path> images = new ArrayList<>();
    @Mixin
    SamplingOptions sampling;
    @Option(names = "--json", description = "print one JSON object: prompt_ids (images expanded), ids, text, finish_reason and"
            + " the timings (open, time to first token, decode tokens/s)")
    boolean json;
    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws Exception {
        GenerationOptions options = sampling.options();
        long start = System.nanoTime();
        try (VisionLanguageModel vlm = VisionLanguageModel.open(model, device.device)) {
            long opened = System.nanoTime();
            Completion c = vlm.complete(prompt, images.stream().map(ImageInput::file).toList(), options, json ? null : text -> {
                System.out.print(text);
                System.out.flush();
            });
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("prompt_ids", ids(c.promptIds()));
                m.put("ids", ids(c.ids()));
                m.put("text", c.text());
                m.put("finish_reason", c.finishReason());
                m.put("open_seconds", (opened - start) / 1e9);
                m.put("time_to_first_token_seconds", c.timeToFirstTokenNanos() / 1e9);
                m.put("decode_tokens_per_second", c.decodeTokensPerSecond());
                System.out.println(Json.write(m));
            } else {
                System.out.println();
            }
        }
        return 0;
    }

    private static List<Long> ids(int[] ids) {
        List<Long> out = new ArrayList<>(ids.length);
        for (int id : ids) {
            out.add((long) id);
        }
        return out;
    }
}
