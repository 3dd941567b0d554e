package nvlm.trainer.data;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.prompt.ChatTemplate;
import nvlm.model.prompt.Message;
import nvlm.model.prompt.PromptBuilder;
import nvlm.model.prompt.PromptImage;
import nvlm.model.prompt.Role;
import nvlm.model.prompt.Sample;
import nvlm.model.tiling.DynamicTiler;
import nvlm.model.tiling.RgbImage;
import nvlm.model.tiling.TagMode;
import nvlm.model.tiling.TilePlan;
import nvlm.model.tokenizer.Tokenizer;

/**
 * Turns an {@link Example} into a model {@link Sample} for one architecture: each image through
 * the tiler (dynamic high resolution, or the low-resolution baseline) with its tile tags, then the
 * conversation through {@link PromptBuilder} (the one place that knows how tiles become tokens).
 * Thread-safe: encoding is a pure function of the example.
 */
public final class SampleEncoder {
    /**
     * How a config's model sees its data.
     *
     * @param lowResolution the paper's low-resolution baseline: one S x S tile per image, no DHR
     * @param tagMode       tile tags, or null for the config's {@code tiling.tag_mode}
     * @param systemPrompt  a system message for every conversation, or null for none (shorter
     *                      sequences; the world's tasks need no instructions)
     */
    public record Options(boolean lowResolution, TagMode tagMode, String systemPrompt) {
        public static Options defaults() {
            return new Options(false, null, null);
        }

        public Options withLowResolution(boolean low) {
            return new Options(low, tagMode, systemPrompt);
        }

        public Options withTagMode(TagMode mode) {
            return new Options(lowResolution, mode, systemPrompt);
        }

        public Options withSystemPrompt(String prompt) {
            return new Options(lowResolution, tagMode, prompt);
        }
    }

    private final DynamicTiler tiler;
    private final TagMode tagMode;
    private final PromptBuilder builder;
    private final Tokenizer tokenizer;
    private final int padId;
    /** Zero pixels per tile count, for measuring token lengths without drawing (never written to). */
    private final ConcurrentHashMap<Integer, float[]> blankPixels = new ConcurrentHashMap<>();

    public SampleEncoder(DynamicTiler tiler, TagMode tagMode, PromptBuilder builder, Tokenizer tokenizer, int padId) {
        this.tiler = tiler;
        this.tagMode = tagMode;
        this.builder = builder;
        this.tokenizer = tokenizer;
        this.padId = padId;
    }

    /** The encoder of a model config: its tile size, tiling and tag mode (docs/model.md §1, §6), tokens per tile and special tokens (docs/model.md §10). */
    public static SampleEncoder forConfig(NvlmConfig config, Tokenizer tokenizer, Options options) {
        int s = config.vision().imageSize();
        NvlmConfig.TilingConfig t = config.tiling();
        DynamicTiler tiler = options.lowResolution() ? DynamicTiler.lowResolution(s)
                : new DynamicTiler(s, t.minTiles(), t.maxTiles(), t.useThumbnail());
        TagMode mode = options.tagMode() != null ? options.tagMode() : TagMode.parse(t.tagMode());
        PromptBuilder builder = PromptBuilder.forModel(config, tokenizer, new ChatTemplate(options.systemPrompt()));
        return new SampleEncoder(tiler, mode, builder, tokenizer, config.tokens().pad());
    }

    public Architecture architecture() {
        return builder.architecture();
    }

    public DynamicTiler tiler() {
        return tiler;
    }

    public TagMode tagMode() {
        return tagMode;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The id rows are padded with when batching. */
    public int padId() {
        return padId;
    }

    /** A training sample: labels on every assistant turn (docs/model.md §8). */
    public Sample encode(Example example) {
        return builder.build(conversation(example.id(), example.turns(), tile(example.images())));
    }

    /** A generation prompt: every turn but the answer, then {@code <|im_start|>assistant\n}; labels all -100. */
    public Sample encodeForGeneration(Example example) {
        List<Turn> prompt = example.promptTurns();
        int images = 0;
        for (Turn t : prompt) {
            images += t.placeholders();
        }
        return builder.buildForGeneration(conversation(example.id(), prompt, tile(example.images().subList(0, images))));
    }

    /** Token count of the training sample, from image sizes and text alone. */
    public int length(Outline outline) {
        List<PromptImage> images = new ArrayList<>();
        for (int i = 0; i < outline.images(); i++) {
            TilePlan plan = tiler.plan(outline.widths()[i], outline.heights()[i]);
            float[] pixels = blankPixels.computeIfAbsent(plan.tileCount(),
                    n -> new float[Math.multiplyExact(n, 3 * plan.tileSize() * plan.tileSize())]);
            images.add(new PromptImage(plan, tagMode.tags(plan), pixels));
        }
        return builder.tokenCount(conversation(outline.id(), outline.turns(), images), false);
    }

    /** Tiles every image (docs/model.md §1) and tags its tiles (docs/model.md §6). */
    public List<PromptImage> tile(List<RgbImage> images) {
        List<PromptImage> out = new ArrayList<>(images.size());
        for (RgbImage image : images) {
            out.add(PromptImage.of(tiler.tile(image), tagMode));
        }
        return out;
    }

    /** The chat messages: each {@code <image>} placeholder of a user turn replaced, in order, by the next image. */
    public static List<Message> conversation(String id, List<Turn> turns, List<PromptImage> images) {
        List<Message> messages = new ArrayList<>(turns.size());
        int next = 0;
        for (Turn turn : turns) {
            if (turn.role() != Role.USER) {
                messages.add(new Message(turn.role(), List.of(new Message.Text(turn.text(), !turn.typed()))));
                continue;
            }
            List<Message.Content> parts = new ArrayList<>();
            String text = turn.text();
            int from = 0;
            for (int at = text.indexOf(Turn.IMAGE_PLACEHOLDER); at >= 0; at = text.indexOf(Turn.IMAGE_PLACEHOLDER, from)) {
                if (at > from) {
                    parts.add(new Message.Text(text.substring(from, at), !turn.typed()));
                }
                if (next >= images.size()) {
                    throw new IllegalArgumentException("example " + id + ": more " + Turn.IMAGE_PLACEHOLDER + " placeholders than its "
                            + images.size() + " images");
                }
                parts.add(new Message.Image(images.get(next++)));
                from = at + Turn.IMAGE_PLACEHOLDER.length();
            }
            if (from < text.length() || parts.isEmpty()) {
                parts.add(new Message.Text(text.substring(from), !turn.typed()));
            }
            messages.add(new Message(Role.USER, parts));
        }
        if (next != images.size()) {
            throw new IllegalArgumentException("example " + id + ": " + images.size() + " images but " + next + " "
                    + Turn.IMAGE_PLACEHOLDER + " placeholders");
        }
        return messages;
    }
}
