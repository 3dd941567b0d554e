package nvlm.model.prompt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import nvlm.model.config.Architecture;
import nvlm.model.config.SpecialTokens;
import nvlm.model.tiling.TagMode;
import nvlm.model.tiling.TilePlan;
import nvlm.model.tokenizer.BpeTokenizer;
import nvlm.model.tokenizer.ProjectTokenizer;
import nvlm.model.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

class PromptBuilderTest {
    private static final ProjectTokenizer TOK = ProjectTokenizer.instance();
    private static final int S = 2;
    private static final int T = 2; // image-context tokens per tile in these examples
    private static final int C = ProjectTokenizer.IMAGE_CONTEXT;
    private static final int IMG = ProjectTokenizer.IMAGE_START;
    private static final int END_IMG = ProjectTokenizer.IMAGE_END;
    /** Tags are several tokens (docs/model.md §6): {@code < tile _ 1 >} and so on. */
    private static final int[] TILE1 = TOK.encode("<tile_1>");
    private static final int[] TILE2 = TOK.encode("<tile_2>");
    private static final int[] THUMB = TOK.encode("<tile_global_thumbnail>");
    private static final int IM_START = ProjectTokenizer.IM_START;
    private static final int IM_END = ProjectTokenizer.IM_END;

    private static PromptBuilder builder(Architecture arch) {
        return new PromptBuilder(arch, S, T, SpecialTokens.project(), TOK, ChatTemplate.withoutDefaultSystem());
    }

    /** A 2x1 grid + thumbnail = 3 tiles, pixels numbered so their order can be checked. */
    static PromptImage image(TagMode mode, float base) {
        TilePlan plan = new TilePlan(40, 20, S, 2, 1, true);
        float[] pixels = new float[3 * 3 * S * S];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = base + i;
        }
        return new PromptImage(plan, mode.tags(plan), pixels);
    }

    static int[] bytes(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[i] & 0xff;
        }
        return out;
    }

    static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }

    static int[] repeat(int v, int n) {
        int[] out = new int[n];
        Arrays.fill(out, v);
        return out;
    }

    private static final List<Message> CHAT_1D = List.of(Message.user(image(TagMode.ONE_D, 0), "hi"), Message.assistant("ok"));

    @Test
    void nvlmDExpandsEveryTileAsTagPlusImageContextTokens() {
        Sample s = builder(Architecture.D).build(CHAT_1D);
        int[] prefix = concat(new int[] {IM_START}, bytes("user\n"));
        int[] image = concat(new int[] {IMG}, TILE1, repeat(C, T), TILE2, repeat(C, T), THUMB, repeat(C, T), new int[] {END_IMG});
        int[] rest = concat(bytes("\nhi"), new int[] {IM_END, IM_START}, bytes("assistant\n"), bytes("ok"), new int[] {IM_END});
        assertArrayEquals(concat(prefix, image, rest), s.inputIds());
        int p = prefix.length;
        int[] mediaImage = concat(repeat(-1, p), repeat(0, image.length + rest.length));
        assertArrayEquals(mediaImage, s.mediaImage());
        int[] mediaTile = repeat(-1, s.length());
        int at = p + 1;
        for (int[] tag : new int[][] {TILE1, TILE2, THUMB}) { // each tag's span carries its tile
            Arrays.fill(mediaTile, at, at + tag.length, at == p + 1 ? 0 : at == p + 1 + TILE1.length + T ? 1 : 2);
            at += tag.length + T;
        }
        assertArrayEquals(mediaTile, s.mediaTile());
        int[] labels = repeat(-100, s.length());
        int n = s.length();
        labels[n - 3] = 'o';
        labels[n - 2] = 'k';
        labels[n - 1] = IM_END;
        assertArrayEquals(labels, s.labels());
        assertArrayEquals(new int[] {3}, s.imageTiles());
        assertArrayEquals(new int[][] {TILE1, TILE2, THUMB}, s.tileTagIds());
        assertArrayEquals(image(TagMode.ONE_D, 0).pixels(), s.pixels());
    }

    @Test
    void nvlmXKeepsOnlyTheTagsInTheSequence() {
        Sample s = builder(Architecture.X).build(CHAT_1D);
        int[] prefix = concat(new int[] {IM_START}, bytes("user\n"));
        assertArrayEquals(concat(prefix, new int[] {IMG}, TILE1, TILE2, THUMB, new int[] {END_IMG}, bytes("\nhi"),
                new int[] {IM_END, IM_START}, bytes("assistant\nok"), new int[] {IM_END}), s.inputIds());
        int p = prefix.length;
        int[] expected = concat(new int[] {-1}, repeat(0, TILE1.length), repeat(1, TILE2.length), repeat(2, THUMB.length), new int[] {-1});
        assertArrayEquals(expected, Arrays.copyOfRange(s.mediaTile(), p, p + expected.length));
        assertEquals(-1, s.mediaImage()[p - 1]);
        assertEquals(0, s.mediaImage()[p]);
        assertEquals(0, s.mediaImage()[s.length() - 1]);
        assertEquals(3, s.tiles());
    }

    @Test
    void nvlmHPutsOnlyTheThumbnailInTheSequenceAndAllTagsInTileTagIds() {
        Sample s = builder(Architecture.H).build(CHAT_1D);
        int[] prefix = concat(new int[] {IM_START}, bytes("user\n"));
        assertArrayEquals(concat(prefix, new int[] {IMG}, THUMB, repeat(C, T), new int[] {END_IMG}, bytes("\nhi"),
                new int[] {IM_END, IM_START}, bytes("assistant\nok"), new int[] {IM_END}), s.inputIds());
        int p = prefix.length;
        assertEquals(2, s.mediaTile()[p + 1], "the thumbnail tag carries the thumbnail's index");
        assertEquals(THUMB.length, Arrays.stream(s.mediaTile()).filter(v -> v >= 0).count());
        assertArrayEquals(new int[][] {TILE1, TILE2, THUMB}, s.tileTagIds());
    }

    @Test
    void nvlmHWithTagsInTheSequencePutsTheRegularTilesTagsBeforeTheThumbnail() {
        Sample s = builder(Architecture.H).withTagsInSequence(true).build(CHAT_1D);
        int[] prefix = concat(new int[] {IM_START}, bytes("user\n"));
        assertArrayEquals(concat(prefix, new int[] {IMG}, TILE1, TILE2, THUMB, repeat(C, T), new int[] {END_IMG}, bytes("\nhi"),
                new int[] {IM_END, IM_START}, bytes("assistant\nok"), new int[] {IM_END}), s.inputIds());
        int p = prefix.length;
        int[] expected = concat(new int[] {-1}, repeat(0, TILE1.length), repeat(1, TILE2.length), repeat(2, THUMB.length),
                repeat(-1, T + 1));
        assertArrayEquals(expected, Arrays.copyOfRange(s.mediaTile(), p, p + expected.length));
        assertArrayEquals(new int[][] {TILE1, TILE2, THUMB}, s.tileTagIds());
        assertArrayEquals(builder(Architecture.H).build(CHAT_1D).pixels(), s.pixels());
        for (Architecture arch : List.of(Architecture.D, Architecture.X)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> builder(arch).withTagsInSequence(true));
            assertTrue(e.getMessage().contains("NVLM-H option"), e.getMessage());
        }
    }

    @Test
    void aSingleTileImageInHIsTaggedAsTheThumbnail() {
        TilePlan single = new TilePlan(10, 10, S, 1, 1, false);
        PromptImage img = new PromptImage(single, TagMode.ONE_D.tags(single), new float[3 * S * S]);
        Sample s = builder(Architecture.H).build(List.of(Message.user(img, "q")));
        assertArrayEquals(concat(new int[] {IM_START}, bytes("user\n"), new int[] {IMG}, THUMB, repeat(C, T),
                new int[] {END_IMG}, bytes("\nq"), new int[] {IM_END}), s.inputIds());
        assertArrayEquals(new int[][] {THUMB}, s.tileTagIds());
    }

    @Test
    void tagModeNoneHasNoTagsAndNoTileSpans() {
        for (Architecture arch : Architecture.values()) {
            Sample s = builder(arch).build(List.of(Message.user(image(TagMode.NONE, 0), "hi"), Message.assistant("ok")));
            assertTrue(Arrays.stream(s.mediaTile()).allMatch(v -> v == -1), arch.name());
            assertTrue(Arrays.stream(s.tileTagIds()).allMatch(t -> t.length == 0), arch.name());
            int imageTokens = arch == Architecture.D ? 3 * T : arch == Architecture.H ? T : 0;
            assertEquals(imageTokens, Arrays.stream(s.inputIds()).filter(id -> id == C).count(), arch.name());
            BatchArrays b = BatchArrays.collate(List.of(s), ProjectTokenizer.PAD);
            assertEquals(1, b.tagLength());
            assertTrue(Arrays.stream(b.tileTagIds()).allMatch(v -> v == -1));
        }
    }

    @Test
    void bboxTagSpansCoverAllOfTheirByteTokens() {
        Sample s = builder(Architecture.X).build(List.of(Message.user(image(TagMode.TWO_D_BBOX, 0), "")));
        String tag0 = "<tile_bbox_0.00_0.00_0.50_1.00>";
        String tag1 = "<tile_bbox_0.50_0.00_1.00_1.00>";
        int n0 = TOK.encode(tag0).length;
        int n1 = TOK.encode(tag1).length;
        assertEquals(24, n0, "<, tile, _bbox and 21 bytes");
        int p = 1 + "user\n".length() + 1; // after <|im_start|>, "user\n", <Image>
        for (int i = 0; i < n0; i++) {
            assertEquals(0, s.mediaTile()[p + i]);
            assertEquals(1, s.mediaTile()[p + n0 + i]);
        }
        assertEquals(2, s.mediaTile()[p + n0 + n1]);
        assertEquals(n0, s.tileTagIds()[0].length);
    }

    @Test
    void bpeTokensSharedByAdjacentTagsBelongToTheLaterTag() throws IOException {
        Tokenizer bpe = BpeTokenizer.fromJson(resource("/nvlm/model/tokenizer/qwen2_style_tokenizer.json"), "qwen2_style");
        SpecialTokens ids = new SpecialTokens(bpe.tokenId("<|vision_pad|>"), bpe.tokenId("<|endoftext|>"), bpe.tokenId("<|im_end|>"));
        PromptBuilder x = new PromptBuilder(Architecture.X, S, T, ids, bpe, ChatTemplate.qwen());
        Sample s = x.build(List.of(Message.user(image(TagMode.ONE_D, 0), "hi"), Message.assistant("ok")));
        // Re-derive the rule from character spans: a token belongs to the last tag its span overlaps.
        String text = x.render(List.of(Message.user(image(TagMode.ONE_D, 0), "hi"), Message.assistant("ok")), false);
        nvlm.model.tokenizer.Encoding enc = bpe.encodeWithOffsets(text);
        assertArrayEquals(enc.ids(), s.inputIds());
        List<int[]> tagSpans = new ArrayList<>();
        int from = 0;
        for (String tag : TagMode.ONE_D.tags(image(TagMode.ONE_D, 0).plan())) {
            int at = text.indexOf(tag, from);
            tagSpans.add(new int[] {at, at + tag.length()});
            from = at + tag.length();
        }
        boolean sharedToken = false;
        for (int t = 0; t < s.length(); t++) {
            int expected = -1;
            for (int k = 0; k < tagSpans.size(); k++) {
                if (enc.starts()[t] < tagSpans.get(k)[1] && enc.ends()[t] > tagSpans.get(k)[0]) {
                    sharedToken |= expected >= 0;
                    expected = k;
                }
            }
            assertEquals(expected, s.mediaTile()[t], "token " + t + " '" + bpe.decode(new int[] {s.inputIds()[t]}) + "'");
        }
        assertTrue(sharedToken, "with the Qwen2 split, '><' between two tags is one piece");
        assertEquals("ok<|im_end|>", decodeLabelled(bpe, s));
        int start = firstIndexOf(s.inputIds(), bpe.tokenId("<|im_start|>"));
        assertEquals(-1, s.mediaImage()[start]);
    }

    private static String decodeLabelled(Tokenizer tok, Sample s) {
        return tok.decode(Arrays.stream(s.labels()).filter(v -> v != -100).toArray());
    }

    private static int firstIndexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void imageContextTextInAMessageIsPlainTextOrRejectedWhenSpecialTokensAreParsed() {
        for (Architecture arch : Architecture.values()) {
            List<Message> typed = List.of(Message.user(image(TagMode.ONE_D, 0), "look: <|vision_pad|>"));
            Sample plain = builder(arch).build(typed);
            assertTrue(TOK.decode(plain.inputIds()).endsWith("look: <|vision_pad|><|im_end|>"), arch.name());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> builder(arch).withSpecialTokensInText(true).build(typed), arch.name());
            assertTrue(e.getMessage().contains("image-context tokens") && e.getMessage().contains("<|vision_pad|>"), e.getMessage());
        }
    }

    @Test
    void systemBlockFollowsTheTemplate() {
        PromptBuilder withDefault = new PromptBuilder(Architecture.D, S, T, SpecialTokens.project(), TOK, new ChatTemplate("Be brief."));
        assertEquals("<|im_start|>system\nBe brief.<|im_end|><|im_start|>user\nq<|im_end|><|im_start|>assistant\na<|im_end|>",
                withDefault.render(List.of(Message.user("q"), Message.assistant("a")), false));
        assertEquals("<|im_start|>system\nOwn.<|im_end|><|im_start|>user\nq<|im_end|><|im_start|>assistant\n",
                withDefault.render(List.of(Message.system("Own."), Message.user("q")), true));
        assertEquals("<|im_start|>user\nq<|im_end|>", builder(Architecture.D).render(List.of(Message.user("q")), false));
    }

    @Test
    void generationPromptsEndWithTheAssistantPrefixAndCarryNoLabels() {
        Sample s = builder(Architecture.D).buildForGeneration(List.of(Message.user(image(TagMode.ONE_D, 0), "hi")));
        assertTrue(Arrays.stream(s.labels()).allMatch(v -> v == -100));
        int[] tail = Arrays.copyOfRange(s.inputIds(), s.length() - 11, s.length());
        assertArrayEquals(concat(new int[] {IM_START}, bytes("assistant\n")), tail);
    }

    @Test
    void multiTurnLabelsEveryAnswerAndMediaFollowsTheLatestImage() {
        List<Message> chat = List.of(Message.user(image(TagMode.ONE_D, 0), "a"), Message.assistant("b"),
                Message.user(image(TagMode.ONE_D, 100), "c"), Message.assistant("d"));
        Sample s = builder(Architecture.X).build(chat);
        assertEquals("b<|im_end|>d<|im_end|>", TOK.decode(Arrays.stream(s.labels()).filter(v -> v != -100).toArray()));
        int second = -1;
        for (int t = 0, seen = 0; t < s.length(); t++) {
            if (s.inputIds()[t] == IMG && ++seen == 2) {
                second = t;
            }
        }
        assertEquals(0, s.mediaImage()[second - 1]);
        assertEquals(1, s.mediaImage()[second]);
        assertEquals(1, s.mediaImage()[s.length() - 1]);
        assertArrayEquals(new int[] {3, 3}, s.imageTiles());
        assertEquals(100f, s.pixels()[3 * 3 * S * S], "second image's pixels follow the first's");
    }

    /**
     * Property: with the project tokenizer, a token is labelled exactly when it belongs to an
     * assistant answer or its closing im_end; system, user, image and tag tokens (and the
     * assistant prefix) are -100. The expectation is built by tokenizing each part on its own.
     */
    @Test
    void labelsAreIgnoredExactlyOnNonAnswerTokens() {
        qt().withExamples(200).forAll(lists().of(integers().between(0, 1_000_000)).ofSizeBetween(1, 6), integers().between(0, 3))
                .checkAssert((seeds, archIndex) -> {
                    Architecture arch = Architecture.values()[archIndex % 3];
                    Random random = new Random(seeds.hashCode());
                    List<Message> chat = new ArrayList<>();
                    List<int[]> expected = new ArrayList<>();
                    boolean system = random.nextBoolean();
                    if (system) {
                        String text = randomText(random);
                        chat.add(Message.system(text));
                        expected.add(ignored(TOK.encode("<|im_start|>system\n" + text + "<|im_end|>")));
                    }
                    for (int seed : seeds) {
                        TagMode mode = TagMode.values()[Math.floorMod(seed, 4)];
                        String question = randomText(random);
                        if (seed % 3 == 0) {
                            PromptImage img = image(mode, seed);
                            chat.add(Message.user(img, question));
                            String rendered = builder(arch).render(List.of(Message.user(img, question)), false);
                            expected.add(ignored(TOK.encode(rendered)));
                        } else {
                            chat.add(Message.user(question));
                            expected.add(ignored(TOK.encode("<|im_start|>user\n" + question + "<|im_end|>")));
                        }
                        String answer = randomText(random);
                        chat.add(Message.assistant(answer));
                        expected.add(ignored(TOK.encode("<|im_start|>assistant\n")));
                        expected.add(TOK.encode(answer + "<|im_end|>"));
                    }
                    Sample s = builder(arch).build(chat);
                    assertArrayEquals(concat(expected.toArray(new int[0][])), s.labels());
                });
    }

    private static int[] ignored(int[] ids) {
        return repeat(-100, ids.length);
    }

    private static String randomText(Random random) {
        String alphabet = "abc XYZ 019\n.,?'";
        StringBuilder sb = new StringBuilder();
        for (int i = random.nextInt(12); i > 0; i--) {
            sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    @Test
    void mismatchedSpecialTokenIdsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PromptBuilder(Architecture.D, S, T, new SpecialTokens(65, 256, 258), TOK, ChatTemplate.qwen()));
        assertEquals("tokens.image_context is 65 ('A') but that is not an added token of the tokenizer, so text around it"
                + " could merge with it", e.getMessage());
    }

    static String resource(String name) throws IOException {
        try (InputStream in = PromptBuilderTest.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("missing test resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
