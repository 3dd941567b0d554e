package nvlm.api;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import nvlm.model.Batch;
import nvlm.model.Generator;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.MappedModel;
import nvlm.model.checkpoint.ModelFolder;
import nvlm.model.config.NvlmConfig;
import nvlm.model.prompt.BatchArrays;
import nvlm.model.prompt.Message;
import nvlm.model.prompt.PromptImage;
import nvlm.model.prompt.Sample;
import nvlm.model.tiling.ImageLoader;
import nvlm.model.tokenizer.StreamingDecoder;
import nvlm.model.tokenizer.Tokenizer;
import nvlm.tensor.Device;

/**
 * A vision-language model opened from a folder: NVLM-D-72B or InternVL2 as published on Hugging
 * Face, or a folder this project wrote; also a bare Qwen2 text model ({@code Qwen2ForCausalLM}),
 * which answers text and refuses images ({@link #acceptsImages()}). The weights are memory-mapped in their stored dtype
 * (docs/model.md §9) and run on the CPU; the prompt is the folder's own.
 *
 * <pre>{@code
 * try (VisionLanguageModel model = VisionLanguageModel.open(Path.of("InternVL2-1B"))) {
 *     Chat chat = model.newChat();
 *     System.out.println(chat.ask("What is in this picture?", Path.of("cat.jpg")));
 *     chat.ask(List.of(), "And what colour is it?", GenerationOptions.defaults(), System.out::print);
 * }
 * }</pre>
 *
 * One generation runs at a time (calls from several threads wait their turn). Close it to unmap
 * the weights.
 */
public final class VisionLanguageModel implements AutoCloseable {
    private final ModelFolder folder;
    private final Nvlm model;
    private final AutoCloseable weights;
    private final ReentrantLock lock = new ReentrantLock(true);
    private long maxPixels = ImageLoader.DEFAULT_MAX_PIXELS;

    private VisionLanguageModel(ModelFolder folder, Nvlm model, AutoCloseable weights) {
        this.folder = folder;
        this.model = model;
        this.weights = weights;
    }

    /** Opens a model folder on the CPU; fails naming the JVM flag, file, field or tensor that is wrong. */
    public static VisionLanguageModel open(Path folder) throws IOException {
        return open(folder, Device.CPU);
    }

    /**
     * Opens a model folder on a device: on the CPU the weights are memory-mapped in their stored
     * dtype; on a GPU they are read once and copied there.
     */
    public static VisionLanguageModel open(Path folder, Device device) throws IOException {
        JvmFlags.require();
        ModelFolder f = ModelFolder.open(folder);
        if (device == Device.CPU) {
            MappedModel mapped = f.map();
            return new VisionLanguageModel(f, mapped.model(), mapped);
        }
        return new VisionLanguageModel(f, f.load(device), () -> { });
    }

    /** A new conversation with the folder's default system prompt. */
    public Chat newChat() {
        return new Chat(this);
    }

    /** Whether the model reads images: false for a text-only model (a bare Qwen2 folder). */
    public boolean acceptsImages() {
        return folder.config().hasVision();
    }

    /** {@code project}, or the published {@code model_type} ({@code NVLM_D}, {@code internvl_chat}, {@code qwen2}). */
    public String format() {
        return folder.format();
    }

    public NvlmConfig config() {
        return folder.config();
    }

    public Tokenizer tokenizer() {
        return folder.tokenizer();
    }

    public Path folder() {
        return folder.dir();
    }

    /** The largest image accepted, in pixels (width x height). */
    public long maxPixels() {
        return maxPixels;
    }

    /** Sets the largest image accepted, in pixels (width x height). */
    public VisionLanguageModel maxPixels(long pixels) {
        if (pixels < 1) {
            throw new IllegalArgumentException("maxPixels must be positive, got " + pixels);
        }
        this.maxPixels = pixels;
        return this;
    }

    /** Tiles an image as the folder's config says, with its tile tags (docs/model.md §1, §6). */
    public PromptImage tile(ImageInput image) throws IOException {
        return PromptImage.of(folder.tiler().tile(image.decode(maxPixels)), folder.tagMode());
    }

    /** A chat prompt: the conversation and the assistant's turn opened, in the folder's template. */
    public Sample chatPrompt(List<Message> conversation) {
        return chatPrompt(conversation, false);
    }

    /**
     * {@link #chatPrompt(List)}; {@code specialTokensInText}: special-token text in the messages
     * becomes those tokens instead of plain text.
     */
    public Sample chatPrompt(List<Message> conversation, boolean specialTokensInText) {
        return folder.promptBuilder().withSpecialTokensInText(specialTokensInText).buildForGeneration(conversation);
    }

    /**
     * Raw completion without the chat template: each {@code <image>} in {@code prompt} becomes the
     * next of {@code images}, expanded in the folder's own layout. Special-token text in the prompt
     * ({@code <|im_start|>}) becomes those tokens, unlike message text in a chat.
     */
    public Completion complete(String prompt, List<ImageInput> images, GenerationOptions options, Consumer<String> onText)
            throws IOException {
        String[] pieces = prompt.split("<image>", -1);
        if (pieces.length - 1 != images.size()) {
            throw new IllegalArgumentException("the prompt has " + (pieces.length - 1) + " <image> placeholders but "
                    + images.size() + " images were given");
        }
        List<Message.Content> parts = new ArrayList<>();
        for (int i = 0; i < pieces.length; i++) {
            if (!pieces[i].isEmpty()) {
                parts.add(new Message.Text(pieces[i]));
            }
            if (i < images.size()) {
                parts.add(new Message.Image(tile(images.get(i))));
            }
        }
        // A raw prompt is written by the caller to carry its own turns: its special-token text is parsed.
        return generate(folder.promptBuilder().withSpecialTokensInText(true).buildRaw(parts), options, onText, () -> false);
    }

    /** Stops generation from inside the token callback. */
    private static final class Stop extends RuntimeException {
        Stop() {
            super(null, null, false, false);
        }
    }

    /**
     * Generates from a prompt sample ({@link #chatPrompt}); {@code onText} (may be null) sees the
     * answer as it grows; {@code cancelled} is polled after each token.
     */
    public Completion generate(Sample sample, GenerationOptions options, Consumer<String> onText, BooleanSupplier cancelled) {
        long start = System.nanoTime();
        lock.lock();
        try {
            Batch prompt = Batch.of(BatchArrays.collate(List.of(sample), folder.config().tokens().pad()))
                    .to(model.languageModel().embeddingTable().device());
            var settings = new Generator.Settings(options.maxTokens(), options.temperature(), options.topP(), options.seed());
            Tokenizer tokenizer = folder.tokenizer();
            StreamingDecoder decoder = tokenizer.streamingDecoder();
            int imEnd = folder.config().tokens().imEnd();
            int endOfText = folder.config().tokens().pad();
            int turnStart = turnStartId();
            StringBuilder text = new StringBuilder();
            List<Integer> ids = new ArrayList<>();
            long[] firstAt = {0};
            String[] reason = {"length"};
            int[] emitted = {0};
            boolean[] cut = {false};
            int holdBack = options.stop().stream().mapToInt(String::length).max().orElse(0);
            try {
                new Generator(model).generate(prompt, settings, token -> {
                    if (ids.isEmpty()) {
                        firstAt[0] = System.nanoTime();
                    }
                    ids.add(token);
                    // InternVL2's generation_config stops at <|im_start|> too (a model that starts the next turn).
                    if (token == imEnd || token == endOfText || token == turnStart) {
                        reason[0] = "stop";
                        throw new Stop();
                    }
                    text.append(decoder.next(token));
                    for (String s : options.stop()) {
                        int at = text.indexOf(s);
                        if (at >= 0) {
                            text.setLength(at);
                            cut[0] = true;
                            reason[0] = "stop";
                            throw new Stop();
                        }
                    }
                    // Text that might still become a stop string is held back until it cannot.
                    int safe = Math.max(emitted[0], text.length() - holdBack);
                    if (onText != null && safe > emitted[0]) {
                        onText.accept(text.substring(emitted[0], safe));
                        emitted[0] = safe;
                    }
                    if (cancelled.getAsBoolean()) {
                        reason[0] = "cancelled";
                        throw new Stop();
                    }
                });
            } catch (Stop stop) {
                // ended by a stop token, a stop string or cancellation
            }
            if (!cut[0]) {
                text.append(decoder.finish()); // bytes of an unfinished character, as U+FFFD
            }
            if (onText != null && text.length() > emitted[0]) {
                onText.accept(text.substring(emitted[0]));
            }
            long end = System.nanoTime();
            long first = firstAt[0] == 0 ? end : firstAt[0];
            return new Completion(text.toString(), sample.inputIds().clone(), ids.stream().mapToInt(Integer::intValue).toArray(),
                    reason[0], first - start, end - first);
        } finally {
            lock.unlock();
        }
    }

    /** The id of {@code <|im_start|>} when it is one added token of the tokenizer, else -1. */
    private int turnStartId() {
        int[] ids = folder.tokenizer().encode("<|im_start|>");
        return ids.length == 1 && folder.tokenizer().isAddedToken(ids[0]) ? ids[0] : -1;
    }

    /** The model itself (docs/model.md), for what the API does not cover. */
    public Nvlm model() {
        return model;
    }

    @Override
    public void close() {
        try {
            weights.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing " + folder.dir() + ": " + e.getMessage(), e);
        }
    }
}
