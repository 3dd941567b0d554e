package nvlm.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import nvlm.model.config.Architecture;
import nvlm.model.prompt.Sample;
import nvlm.model.tokenizer.ProjectTokenizer;
import org.junit.jupiter.api.Test;

class SampleEncoderTest {
    private static final int[] ASSISTANT_PREFIX = bytes("assistant\n");
    private static final int TOKENS_112 = 16;
    private static final int TOKENS_224 = 64;

    private static int[] bytes(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[i] & 0xff;
        }
        return out;
    }

    /**
     * The labels an independent scan of the token ids expects: the tokens after each
     * {@code <|im_start|>assistant\n} up to and including the next {@code <|im_end|>}; -100
     * everywhere else (system, user, image, tag tokens).
     */
    private static int[] expectedLabels(int[] ids) {
        int[] labels = new int[ids.length];
        Arrays.fill(labels, -100);
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] == ProjectTokenizer.IM_START && t + ASSISTANT_PREFIX.length < ids.length
                    && Arrays.equals(Arrays.copyOfRange(ids, t + 1, t + 1 + ASSISTANT_PREFIX.length), ASSISTANT_PREFIX)) {
                int u = t + 1 + ASSISTANT_PREFIX.length;
                for (; u < ids.length && ids[u] != ProjectTokenizer.IM_END; u++) {
                    labels[u] = ids[u];
                }
                labels[u] = ids[u];
                t = u;
            }
        }
        return labels;
    }

    private static boolean isStructural(int id) {
        return id >= ProjectTokenizer.IMAGE_START; // <Image>, </Image>, image context, every tile tag
    }

    @Test
    void everyFamilyGivesValidSamplesForEveryArchitectureAndTileSize() {
        for (int s : new int[] {112, 224}) {
            SyntheticWorld world = new SyntheticWorld(WorldConfig.defaults(s));
            int perTile = s == 112 ? TOKENS_112 : TOKENS_224;
            for (Architecture arch : Architecture.values()) {
                SampleEncoder enc = Models.encoder(arch, s, SampleEncoder.Options.defaults());
                for (Family f : Family.values()) {
                    for (int i = 0; i < 3; i++) {
                        Example e = world.example(Split.TRAIN, f, i);
                        Sample sample = enc.encode(e);
                        String where = "S=" + s + " " + arch + " " + e.id();
                        assertArrayEquals(expectedLabels(sample.inputIds()), sample.labels(), where + ": labels");
                        for (int t = 0; t < sample.length(); t++) {
                            if (isStructural(sample.inputIds()[t]) || sample.inputIds()[t] == ProjectTokenizer.IM_START) {
                                assertEquals(-100, sample.labels()[t], where + ": token " + t + " is labelled");
                            }
                        }
                        assertEquals(e.answer(), answerOf(sample), where);
                        int tiles = e.images().isEmpty() ? 0 : enc.tiler().plan(e.images().getFirst().width(),
                                e.images().getFirst().height()).tileCount();
                        long context = Arrays.stream(sample.inputIds()).filter(id -> id == ProjectTokenizer.IMAGE_CONTEXT).count();
                        long expected = switch (arch) {
                            case D -> (long) tiles * perTile;
                            case X -> 0;
                            case H -> (long) e.images().size() * perTile;
                        };
                        assertEquals(expected, context, where + ": image-context tokens");
                        assertEquals(tiles, sample.tiles(), where);
                        assertEquals(enc.length(e.outline()), sample.length(), where + ": length from the outline");
                        if (f.hasImage()) {
                            assertTrue(sample.tiles() >= 1 && sample.tiles() <= 7, where);
                            assertEquals(-1, sample.mediaImage()[0], "no image before the first <Image>");
                        }
                    }
                }
            }
        }
    }

    private static String answerOf(Sample sample) {
        StringBuilder sb = new StringBuilder();
        int[] ids = sample.inputIds();
        for (int t = 0; t < ids.length; t++) {
            if (sample.labels()[t] != -100 && ids[t] < 256) {
                sb.append((char) ids[t]);
            }
        }
        return sb.toString();
    }

    @Test
    void aSystemPromptIsUnlabelled() {
        SampleEncoder enc = Models.encoder(Architecture.D, 112, SampleEncoder.Options.defaults().withSystemPrompt("Answer briefly."));
        Example e = new SyntheticWorld(WorldConfig.defaults(112)).example(Split.TRAIN, Family.OCR, 0);
        Sample s = enc.encode(e);
        String text = ProjectTokenizer.instance().decode(s.inputIds());
        assertTrue(text.startsWith("<|im_start|>system\nAnswer briefly.<|im_end|><|im_start|>user\n<Image>"), text.substring(0, 60));
        assertArrayEquals(expectedLabels(s.inputIds()), s.labels());
        SampleEncoder plain = Models.encoder(Architecture.D, 112, SampleEncoder.Options.defaults());
        assertTrue(ProjectTokenizer.instance().decode(plain.encode(e).inputIds()).startsWith("<|im_start|>user\n<Image>"));
    }

    @Test
    void generationPromptsStopAtTheAssistantTurnAndCarryNoLabels() {
        SyntheticWorld world = new SyntheticWorld(WorldConfig.defaults(112));
        for (Architecture arch : Architecture.values()) {
            SampleEncoder enc = Models.encoder(arch, 112, SampleEncoder.Options.defaults());
            for (Family f : Family.values()) {
                Example e = world.example(Split.TEST, f, 1);
                Sample prompt = enc.encodeForGeneration(e);
                String text = ProjectTokenizer.instance().decode(prompt.inputIds());
                assertTrue(text.endsWith("<|im_start|>assistant\n"), text);
                assertTrue(Arrays.stream(prompt.labels()).allMatch(l -> l == -100));
                Sample full = enc.encode(e);
                assertArrayEquals(Arrays.copyOf(full.inputIds(), prompt.length()), prompt.inputIds(), "prompt is a prefix");
                assertArrayEquals(full.pixels(), prompt.pixels());
            }
        }
    }

    @Test
    void lowResolutionGivesOneTilePerImageAndTagModesChangeTheTags() {
        SyntheticWorld world = new SyntheticWorld(WorldConfig.defaults(112));
        Example e = world.example(Split.TRAIN, Family.OCR, 0);
        SampleEncoder low = Models.encoder(Architecture.D, 112, SampleEncoder.Options.defaults().withLowResolution(true));
        Sample s = low.encode(e);
        assertEquals(1, s.tiles());
        assertEquals(TOKENS_112, Arrays.stream(s.inputIds()).filter(id -> id == ProjectTokenizer.IMAGE_CONTEXT).count());
        for (var mode : nvlm.model.tiling.TagMode.values()) {
            SampleEncoder enc = Models.encoder(Architecture.X, 112, SampleEncoder.Options.defaults().withTagMode(mode));
            Sample x = enc.encode(e);
            String text = ProjectTokenizer.instance().decode(x.inputIds());
            switch (mode) {
                case NONE -> assertTrue(text.contains("<Image></Image>"), text);
                case ONE_D -> assertTrue(text.contains("<Image><tile_1>"), text);
                case TWO_D_GRID -> assertTrue(text.contains("<Image><tile_x0_y0>"), text);
                case TWO_D_BBOX -> assertTrue(text.contains("<Image><tile_bbox_0.00_0.00_"), text);
            }
            assertArrayEquals(expectedLabels(x.inputIds()), x.labels(), mode.configName());
        }
    }

    @Test
    void placeholdersMustMatchTheImages() {
        Example e = new SyntheticWorld(WorldConfig.defaults(112)).example(Split.TRAIN, Family.OCR, 0);
        IllegalArgumentException err = assertThrows(IllegalArgumentException.class,
                () -> new Example("x", "ocr", e.images(), List.of(Turn.user("no placeholder"), Turn.assistant("A"))));
        assertTrue(err.getMessage().contains("1 images but 0"), err.getMessage());
        err = assertThrows(IllegalArgumentException.class,
                () -> SampleEncoder.conversation("y", List.of(Turn.user("<image><image>"), Turn.assistant("A")),
                        List.of(Models.encoder(Architecture.D, 112, SampleEncoder.Options.defaults()).tile(e.images()).getFirst())));
        assertTrue(err.getMessage().contains("more <image> placeholders"), err.getMessage());
    }

    @Test
    void multiImageAndMultiTurnConversationsKeepImageOrderAndLabelEveryAnswer() {
        SyntheticWorld world = new SyntheticWorld(WorldConfig.defaults(112));
        var a = world.example(Split.TRAIN, Family.OCR, 0).images().getFirst();
        var b = world.example(Split.TRAIN, Family.CHART, 0).images().getFirst();
        Example e = new Example("multi", "llava", List.of(a, b), List.of(Turn.user("<image>\nFirst?"), Turn.assistant("one"),
                Turn.user("And <image> this?"), Turn.assistant("two")));
        for (Architecture arch : Architecture.values()) {
            SampleEncoder enc = Models.encoder(arch, 112, SampleEncoder.Options.defaults());
            Sample s = enc.encode(e);
            assertEquals(2, s.images());
            assertArrayEquals(expectedLabels(s.inputIds()), s.labels());
            assertEquals("one<|im_end|>two<|im_end|>".replace("<|im_end|>", ""), answerOf(s));
            int tilesA = enc.tiler().plan(a.width(), a.height()).tileCount();
            assertEquals(tilesA, s.imageTiles()[0]);
            assertEquals(enc.length(e.outline()), s.length());
        }
    }
}
