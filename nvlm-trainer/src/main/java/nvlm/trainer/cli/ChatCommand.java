package nvlm.trainer.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import nvlm.model.Batch;
import nvlm.model.Generator;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.ModelFolder;
import nvlm.model.config.ContextLength;
import nvlm.model.prompt.BatchArrays;
import nvlm.model.prompt.Message;
import nvlm.model.prompt.PromptImage;
import nvlm.model.prompt.Sample;
import nvlm.model.tiling.ImageLoader;
import nvlm.model.tokenizer.StreamingDecoder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ./nvlm chat}: answers one question about zero or more images. */
@Command(name = "chat", header = "answer a question about images with a model folder (greedy or top-p sampling)",
        description = """
                Tiles each image as the model's config says (docs/model.md §1), builds the chat prompt (docs/model.md §6) and
                generates the answer token by token with a KV cache, stopping at <|im_end|>.""")
public final class ChatCommand implements NvlmCommand {
    @Parameters(paramLabel = "QUESTION", description = "the question (quote it)")
    String question;
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "a model folder (config.json, weights, optional"
            + " tokenizer.json)")
    Path model;
    @Option(names = "--image", paramLabel = "F", description = "an image (PNG, JPEG, BMP, GIF); repeat for several, in order")
    List<Path> images = new ArrayList<>();
    @Option(names = "--max-new-tokens", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "stop after N tokens (default ${DEFAULT-VALUE})")
    int maxNewTokens = 64;
    @Option(names = "--temperature", paramLabel = "T", description = "0 = greedy (default); > 0 samples softmax(logits / T)")
    double temperature = 0;
    @Option(names = "--top-p", paramLabel = "P", description = "nucleus sampling mass (default ${DEFAULT-VALUE})")
    double topP = 1.0;
    @Option(names = "--seed", paramLabel = "S", description = "sampling seed (default ${DEFAULT-VALUE})")
    long seed = 0;
    @Option(names = "--parse-special-tokens", description = "let special-token text in the question (<|im_end|>, <|im_start|>)"
            + " become those tokens; by default the question is plain text")
    boolean parseSpecialTokens;
    @Mixin
    DeviceOption device;
    @Mixin
    ProgressOption progress;

    @Override
    public Integer call() throws Exception {
        ModelFolder folder = ModelFolder.open(model);
        ImageLoader loader = new ImageLoader();
        List<PromptImage> prompts = new ArrayList<>();
        for (Path file : images) {
            prompts.add(PromptImage.of(folder.tiler().tile(loader.load(file)), folder.tagMode()));
        }
        Message user = prompts.isEmpty() ? Message.user(question) : Message.user(prompts, question);
        Sample sample = folder.promptBuilder().withSpecialTokensInText(parseSpecialTokens).buildForGeneration(List.of(user));
        // before the weights are read and the KV cache allocated
        ContextLength.require((long) sample.length() + maxNewTokens, folder.config(),
                "the prompt (" + sample.length() + " tokens) with --max-new-tokens " + maxNewTokens);
        Nvlm loaded = progress.loadModel(folder, device.device);
        Batch prompt = Batch.of(BatchArrays.collate(List.of(sample), folder.config().tokens().pad())).to(device.device);
        var settings = new Generator.Settings(maxNewTokens, temperature, topP, seed);
        StreamingDecoder decoder = folder.tokenizer().streamingDecoder();
        int imEnd = folder.config().tokens().imEnd();
        new Generator(loaded).generate(prompt, settings, token -> {
            if (token != imEnd) {
                System.out.print(decoder.next(token));
                System.out.flush();
            }
        });
        System.out.println(decoder.finish());
        return 0;
    }
}
