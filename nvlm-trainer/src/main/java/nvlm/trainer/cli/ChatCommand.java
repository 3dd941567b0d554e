package nvlm.trainer.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import nvlm.model.Batch;
import nvlm.model.Generator;
import nvlm.model.ModelFolder;
import nvlm.model.Nvlm;
import nvlm.model.prompt.Message;
import nvlm.model.prompt.PromptImage;
import nvlm.model.prompt.Sample;
import nvlm.model.tiling.ImageLoader;
import nvlm.model.tokenizer.StreamingDecoder;
import nvlm.tensor.Device;

/** {@code ./nvlm chat}: answers one question about zero or more images. */
public final class ChatCommand implements Command {
    private static final String USAGE = """
            usage: ./nvlm chat --model DIR [--image F]... [options] "question"

            Tiles each image as the model's config says (docs/model.md §1), builds the chat prompt
            (docs/model.md §6) and generates the answer token by token with a KV cache, stopping at <|im_end|>.

              --model DIR          a model folder (config.json, weights, optional tokenizer.json)
              --image F            an image (PNG, JPEG, BMP, GIF); repeat for several, in order
              --max-new-tokens N   stop after N tokens (default 64)
              --temperature T      0 = greedy (default); > 0 samples softmax(logits / T)
              --top-p P            nucleus sampling mass (default 1.0)
              --seed S             sampling seed (default 0)
              --device D           cpu (default) or cuda
            """;

    @Override
    public String name() {
        return "chat";
    }

    @Override
    public String summary() {
        return "answer a question about images with a model folder (greedy or top-p sampling)";
    }

    @Override
    public int run(List<String> words) throws Exception {
        Args args = Args.parse(name(), words, Set.of("model", "image", "max-new-tokens", "temperature", "top-p", "seed", "device"),
                Set.of("help"));
        if (args.has("help")) {
            System.out.print(USAGE);
            return 0;
        }
        if (args.positional().size() != 1) {
            throw new UsageException("give exactly one question (quote it), got " + args.positional().size() + " words");
        }
        Device device = Device.parse(args.get("device", "cpu"));
        ModelFolder folder = ModelFolder.open(Path.of(args.require("model")));
        ImageLoader loader = new ImageLoader();
        List<PromptImage> images = new ArrayList<>();
        for (String file : args.all("image")) {
            images.add(PromptImage.of(folder.tiler().tile(loader.load(Path.of(file))), folder.tagMode()));
        }
        String question = args.positional().getFirst();
        Message user = images.isEmpty() ? Message.user(question) : Message.user(images, question);
        Sample sample = folder.promptBuilder().buildForGeneration(List.of(user));
        Nvlm model = folder.load(device);
        Batch prompt = Batch.of(nvlm.model.prompt.Batch.collate(List.of(sample), folder.config().tokens().pad())).to(device);
        var settings = new Generator.Settings(args.getInt("max-new-tokens", 64), args.getDouble("temperature", 0),
                args.getDouble("top-p", 1.0), args.getLong("seed", 0));
        StreamingDecoder decoder = folder.tokenizer().streamingDecoder();
        int imEnd = folder.config().tokens().imEnd();
        new Generator(model).generate(prompt, settings, token -> {
            if (token != imEnd) {
                System.out.print(decoder.next(token));
                System.out.flush();
            }
        });
        System.out.println(decoder.finish());
        return 0;
    }
}
