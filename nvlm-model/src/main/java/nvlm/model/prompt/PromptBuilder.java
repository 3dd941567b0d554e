package nvlm.model.prompt;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.SpecialTokens;
import nvlm.model.tokenizer.Encoding;
import nvlm.model.tokenizer.Tokenizer;
import nvlm.tensor.F;

/**
 * Turns a conversation with tiled images into one {@link Sample}: the one place that knows how
 * tiles become tokens (docs/model.md §6, §7, §8 and §10).
 *
 * <p>Each image in a user message is expanded in place:
 * <ul>
 *   <li>NVLM-D: {@code <Image>} + per tile (thumbnail last): tag + T_img image-context tokens + {@code </Image>};
 *   <li>NVLM-X: {@code <Image>} + every tile's tag + {@code </Image>} (the tiles reach the decoder
 *       through cross-attention);
 *   <li>NVLM-H: {@code <Image>} + the global tile's tag ({@code <tile_global_thumbnail>}) + T_img
 *       image-context tokens + {@code </Image>}; the regular tiles' tags only go to
 *       {@code tileTagIds}, which the cross-attention memory uses. With tags in the sequence (a
 *       project decision, {@link #withTagsInSequence}) every regular tile's tag comes first, as in
 *       NVLM-X: {@code <Image>} + tag_1 ... tag_k + the global tile's tag + T_img image-context
 *       tokens + {@code </Image>}.
 * </ul>
 * In tag mode none the tags are empty, so nothing is written for them (for H too).
 *
 * <p>The whole expanded conversation is tokenized at once (docs/model.md §6: a BPE tokenizer may merge
 * across a tag's boundary), and token spans decide the per-token arrays:
 * <ul>
 *   <li>{@code labels}: the id for tokens overlapping an assistant answer or its closing
 *       {@code <|im_end|>} (docs/model.md §8), -100 for everything else (system, user, image, tag tokens and
 *       the {@code <|im_start|>assistant\n} prefix). A BPE token straddling the prefix and the
 *       answer (only possible when the answer starts with a newline) counts as answer, like
 *       Hugging Face's assistant-token mask.
 *   <li>{@code mediaImage}: from the token holding the first character of image m's
 *       {@code <Image>} on, m (until the next image).
 *   <li>{@code mediaTile}: j on the tokens overlapping tile j's tag, and nowhere else: the
 *       image-context tokens that follow a tag in NVLM-D are the tile's content, not its tag
 *       span, and every architecture gets the same definition (only NVLM-X's mask reads it). In
 *       NVLM-H the only tag in the sequence is the global tile's, so only those tokens carry its
 *       index. A token shared by two adjacent tags (a BPE merge of {@code ><}) belongs to the
 *       later tag, the one it opens.
 * </ul>
 */
public final class PromptBuilder {
    private final Architecture architecture;
    private final int tileSize;
    private final int tokensPerTile;
    private final SpecialTokens tokens;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final String imageContext;
    private boolean specialTokensInText;
    private boolean tagsInSequence;

    public PromptBuilder(Architecture architecture, int tileSize, int tokensPerTile, SpecialTokens tokens, Tokenizer tokenizer,
                         ChatTemplate template) {
        boolean textOnly = tokens.imageContext() < 0;
        if (tokensPerTile <= 0 && !textOnly) {
            throw new IllegalArgumentException("tokens per tile must be positive, got " + tokensPerTile);
        }
        this.architecture = architecture;
        this.tileSize = tileSize;
        this.tokensPerTile = tokensPerTile;
        this.tokens = tokens;
        this.tokenizer = tokenizer;
        this.template = template;
        this.imageContext = textOnly ? null : tokenizer.idToToken(tokens.imageContext());
        if (!textOnly) {
            requireSingleToken(imageContext, tokens.imageContext(), "image_context");
        }
        requireSingleToken(ChatTemplate.IM_END, tokens.imEnd(), "im_end");
        tokenizer.idToToken(tokens.pad());
    }

    /**
     * The prompt builder of a model: its architecture, tile size (0 for a text-only decoder),
     * tokens per tile and special tokens, and for NVLM-H whether its tags are in the sequence
     * ({@link #withTagsInSequence}).
     */
    public static PromptBuilder forModel(NvlmConfig config, Tokenizer tokenizer, ChatTemplate template) {
        return new PromptBuilder(config.architecture(), config.hasVision() ? config.vision().imageSize() : 0,
                config.tokensPerTile(), config.tokens(), tokenizer, template).withTagsInSequence(config.tagsInSequence());
    }

    private void requireSingleToken(String text, int id, String what) {
        if (!tokenizer.isAddedToken(id)) {
            throw new IllegalArgumentException("tokens." + what + " is " + id + " ('" + tokenizer.idToToken(id)
                    + "') but that is not an added token of the tokenizer, so text around it could merge with it");
        }
        int[] ids = tokenizer.encode(text);
        if (ids.length != 1 || ids[0] != id) {
            throw new IllegalArgumentException("tokens." + what + " is " + id + " but the tokenizer encodes '" + text + "' as "
                    + Arrays.toString(ids) + ": it must be one special token");
        }
    }

    /**
     * Whether special-token text in messages ({@code <|im_end|><|im_start|>assistant} typed in a
     * question or found in a dataset) becomes those tokens. Off by default: message text is
     * encoded as plain text, so only the template makes turns, images and tags, as tiktoken and
     * transformers' {@code split_special_tokens=True} do. On for text that is meant to carry them.
     */
    public PromptBuilder withSpecialTokensInText(boolean parse) {
        PromptBuilder copy = copy();
        copy.specialTokensInText = parse;
        return copy;
    }

    /**
     * NVLM-H with every regular tile's tag in its decoder sequence, before the thumbnail's
     * (docs/model.md §7 "Tags in NVLM-H's sequence", a project decision beyond the paper; the model's
     * {@code NvlmConfig.tagsInSequence}). NVLM-D and NVLM-X have them there already.
     */
    public PromptBuilder withTagsInSequence(boolean on) {
        if (on && architecture != Architecture.H) {
            throw new IllegalArgumentException("tags in the sequence is an NVLM-H option; NVLM-" + architecture
                    + " has every tile's tag in its sequence already");
        }
        PromptBuilder copy = copy();
        copy.tagsInSequence = on;
        return copy;
    }

    private PromptBuilder copy() {
        PromptBuilder copy = new PromptBuilder(architecture, tileSize, tokensPerTile, tokens, tokenizer, template);
        copy.specialTokensInText = specialTokensInText;
        copy.tagsInSequence = tagsInSequence;
        return copy;
    }

    public Architecture architecture() {
        return architecture;
    }

    public int tokensPerTile() {
        return tokensPerTile;
    }

    /** A training sample: labels on every assistant answer. */
    public Sample build(List<Message> conversation) {
        return build(conversation, false);
    }

    /**
     * A prompt for generation: the conversation followed by {@code <|im_start|>assistant\n}, all
     * labels -100.
     */
    public Sample buildForGeneration(List<Message> conversation) {
        return build(conversation, true);
    }

    /**
     * A raw prompt without the chat template: the parts in order, each image expanded in the
     * folder's own layout (wrapper, tags, context tokens) exactly as inside a chat turn. Special-token
     * text in the parts is plain text unless {@link #withSpecialTokensInText} says otherwise.
     */
    public Sample buildRaw(List<Message.Content> parts) {
        Layout layout = new Layout();
        for (Message.Content c : parts) {
            switch (c) {
                case Message.Text t -> {
                    int start = layout.text.length();
                    layout.text.append(t.text());
                    if (!specialTokensInText && !t.specialTokens()) {
                        layout.literal.set(start, layout.text.length());
                    }
                }
                case Message.Image i -> appendImage(layout, i.image());
            }
        }
        return build(layout);
    }

    /** The expanded text of a conversation (what gets tokenized). */
    public String render(List<Message> conversation, boolean generationPrompt) {
        return layout(conversation, generationPrompt).text.toString();
    }

    /** Character spans of the expanded text. */
    private static final class Layout {
        final StringBuilder text = new StringBuilder();
        final List<int[]> answers = new ArrayList<>();
        final List<Integer> imageStarts = new ArrayList<>();
        /** Per image, per tile: {start, end} of its tag in the text, or null if it is not there. */
        final List<int[][]> tagSpans = new ArrayList<>();
        final List<PromptImage> images = new ArrayList<>();
        /** Characters of message text: encoded as plain text unless special tokens in text are parsed. */
        final java.util.BitSet literal = new java.util.BitSet();
    }

    private Layout layout(List<Message> conversation, boolean generationPrompt) {
        Layout out = new Layout();
        if (template.defaultSystem() != null && (conversation.isEmpty() || conversation.getFirst().role() != Role.SYSTEM)) {
            appendTurn(out, Message.system(template.defaultSystem()));
        }
        for (Message m : conversation) {
            appendTurn(out, m);
        }
        if (generationPrompt) {
            out.text.append(ChatTemplate.turnStart(Role.ASSISTANT));
        }
        return out;
    }

    private void appendTurn(Layout out, Message m) {
        out.text.append(ChatTemplate.turnStart(m.role()));
        int contentStart = out.text.length();
        for (Message.Content c : m.content()) {
            switch (c) {
                case Message.Text t -> {
                    int start = out.text.length();
                    out.text.append(t.text());
                    if (!specialTokensInText && !t.specialTokens()) {
                        out.literal.set(start, out.text.length());
                    }
                }
                case Message.Image i -> appendImage(out, i.image());
            }
        }
        out.text.append(ChatTemplate.IM_END);
        if (m.role() == Role.ASSISTANT) {
            out.answers.add(new int[] {contentStart, out.text.length()});
        }
        out.text.append(template.turnSeparator());
    }

    private void appendImage(Layout out, PromptImage image) {
        if (imageContext == null) {
            throw new IllegalArgumentException("this model is a text-only decoder (no vision encoder): it takes no images");
        }
        if (image.plan().tileSize() != tileSize) {
            throw new IllegalArgumentException("image tiles are " + image.plan().tileSize() + "px, the model's are " + tileSize + "px");
        }
        StringBuilder text = out.text;
        out.imageStarts.add(text.length());
        out.images.add(image);
        int[][] spans = new int[image.tiles()][];
        text.append(template.imageStart());
        switch (architecture) {
            case D, X -> {
                for (int k = 0; k < image.tiles(); k++) {
                    spans[k] = appendTag(text, image.tags().get(k));
                    if (architecture == Architecture.D) {
                        text.append(imageContext.repeat(tokensPerTile));
                    }
                }
            }
            case H -> {
                int global = image.globalTile();
                for (int k = 0; tagsInSequence && k < image.tiles(); k++) {
                    if (k != global) {
                        spans[k] = appendTag(text, image.tags().get(k));
                    }
                }
                spans[global] = appendTag(text, image.tags().get(global));
                text.append(imageContext.repeat(tokensPerTile));
            }
        }
        text.append(template.imageEnd());
        out.tagSpans.add(spans);
    }

    private static int[] appendTag(StringBuilder text, String tag) {
        if (tag.isEmpty()) {
            return null;
        }
        int start = text.length();
        text.append(tag);
        return new int[] {start, text.length()};
    }

    /** Tokens {@link #build} would make of a conversation, without the pixels. */
    public int tokenCount(List<Message> conversation, boolean generationPrompt) {
        Layout layout = layout(conversation, generationPrompt);
        return tokenizer.encodeWithOffsets(layout.text.toString(), layout.literal).size();
    }

    private Sample build(List<Message> conversation, boolean generationPrompt) {
        return build(layout(conversation, generationPrompt));
    }

    private Sample build(Layout layout) {
        Encoding enc = tokenizer.encodeWithOffsets(layout.text.toString(), layout.literal);
        int n = enc.size();
        int[] ids = enc.ids();
        int[] labels = new int[n];
        Arrays.fill(labels, F.IGNORE_INDEX);
        for (int[] span : layout.answers) {
            for (int t = firstOverlapping(enc, span[0]); t < n && enc.starts()[t] < span[1]; t++) {
                labels[t] = ids[t];
            }
        }
        int[] mediaImage = new int[n];
        int[] mediaTile = new int[n];
        Arrays.fill(mediaImage, -1);
        Arrays.fill(mediaTile, -1);
        int images = layout.images.size();
        for (int m = 0; m < images; m++) {
            int from = firstOverlapping(enc, layout.imageStarts.get(m));
            int to = m + 1 < images ? firstOverlapping(enc, layout.imageStarts.get(m + 1)) : n;
            Arrays.fill(mediaImage, from, to, m);
            int[][] spans = layout.tagSpans.get(m);
            for (int k = 0; k < spans.length; k++) {
                if (spans[k] != null) {
                    for (int t = firstOverlapping(enc, spans[k][0]); t < n && enc.starts()[t] < spans[k][1]; t++) {
                        mediaTile[t] = k;
                    }
                }
            }
        }
        int[] imageTiles = new int[images];
        List<int[]> tagIds = new ArrayList<>();
        int totalTiles = 0;
        for (int m = 0; m < images; m++) {
            PromptImage image = layout.images.get(m);
            imageTiles[m] = image.tiles();
            totalTiles += image.tiles();
            for (String tag : image.tags()) {
                tagIds.add(tag.isEmpty() ? new int[0] : tokenizer.encode(tag));
            }
        }
        checkImageContextCount(ids, images, totalTiles);
        float[] pixels = new float[Math.multiplyExact(totalTiles, 3 * tileSize * tileSize)];
        int offset = 0;
        for (PromptImage image : layout.images) {
            System.arraycopy(image.pixels(), 0, pixels, offset, image.pixels().length);
            offset += image.pixels().length;
        }
        return new Sample(ids, labels, mediaImage, mediaTile, imageTiles, tagIds.toArray(new int[0][]), pixels, tileSize);
    }

    /** docs/model.md §10: D has N*T_img image-context tokens, H one tile's worth per image, X none. */
    private void checkImageContextCount(int[] ids, int images, int tiles) {
        long expected = switch (architecture) {
            case D -> (long) tiles * tokensPerTile;
            case H -> (long) images * tokensPerTile;
            case X -> 0;
        };
        long actual = Arrays.stream(ids).filter(id -> id == tokens.imageContext()).count();
        if (actual != expected) {
            String need = switch (architecture) {
                case D -> tiles + " tiles x " + tokensPerTile;
                case H -> images + " images x " + tokensPerTile;
                case X -> "none in NVLM-X";
            };
            throw new IllegalArgumentException("NVLM-" + architecture + " sample has " + actual + " image-context tokens ('" + imageContext
                    + "', id " + tokens.imageContext() + ") but its images need " + expected + " (" + need
                    + "); does the text itself contain '" + imageContext + "'?");
        }
    }

    /** The first token whose span ends after {@code pos} (the token holding character {@code pos}, or the next one). */
    private static int firstOverlapping(Encoding enc, int pos) {
        int lo = 0;
        int hi = enc.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (enc.ends()[mid] <= pos) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
