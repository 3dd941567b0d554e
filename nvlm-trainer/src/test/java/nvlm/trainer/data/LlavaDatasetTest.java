package nvlm.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import nvlm.model.config.Architecture;
import nvlm.model.prompt.Role;
import nvlm.model.prompt.Sample;
import nvlm.model.tiling.RgbImage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlavaDatasetTest {
    @TempDir
    Path dir;
    Path images;
    RgbImage red;
    RgbImage chart;

    @BeforeEach
    void writeImages() throws IOException {
        images = Files.createDirectory(dir.resolve("images"));
        SyntheticWorld world = new SyntheticWorld(WorldConfig.defaults(112));
        red = world.example(Split.TRAIN, Family.SPATIAL, 0).images().getFirst();
        chart = world.example(Split.TRAIN, Family.CHART, 0).images().getFirst();
        Files.createDirectory(images.resolve("sub"));
        WorldPreview.write(red, images.resolve("a.png"));
        WorldPreview.write(chart, images.resolve("sub/b.png"));
    }

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    private String error(String name, String text) throws IOException {
        Path file = write(name, text);
        DataFormatException e = assertThrows(DataFormatException.class, () -> LlavaDataset.open(file, images));
        assertTrue(e.getMessage().startsWith(file.toString()), "message does not name the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void readsJsonArraysWithOneImageManyImagesOrNone() throws IOException {
        Path file = write("data.json", """
                [
                  {"id": "r0", "image": "a.png",
                   "conversations": [{"from": "human", "value": "<image>\\nWhat is in the picture?"},
                                     {"from": "gpt", "value": "Shapes."}]},
                  {"id": 17, "images": ["a.png", "sub/b.png"], "family": "compare",
                   "conversations": [{"from": "system", "value": "Be short."},
                                     {"from": "human", "value": "<image>\\n<image>\\nSame?"},
                                     {"from": "gpt", "value": "No."},
                                     {"from": "user", "value": "Why?"},
                                     {"from": "assistant", "value": "Different."}]},
                  {"conversations": [{"from": "human", "value": "What is 2+2?"}, {"from": "gpt", "value": "4"}]}
                ]
                """);
        LlavaDataset data = LlavaDataset.open(file, images);
        assertEquals(3, data.size());
        Example first = data.get(0);
        assertEquals("r0", first.id());
        assertEquals("llava", first.family());
        assertEquals(1, first.images().size());
        assertArrayEquals(red.rgb(), first.images().getFirst().rgb(), "PNG round trip through ImageLoader");
        assertEquals("What is in the picture?", first.question());
        assertEquals("Shapes.", first.answer());
        Example second = data.get(1);
        assertEquals("17", second.id());
        assertEquals("compare", second.family());
        assertEquals(2, second.images().size());
        assertArrayEquals(chart.rgb(), second.images().get(1).rgb());
        assertEquals(List.of(Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.USER, Role.ASSISTANT),
                second.turns().stream().map(Turn::role).toList());
        assertEquals("Different.", second.answer());
        Example third = data.get(2);
        assertEquals("record-2", third.id());
        assertTrue(third.images().isEmpty());
        Outline o = data.outline(1);
        assertArrayEquals(new int[] {red.width(), chart.width()}, o.widths());
        assertArrayEquals(new int[] {red.height(), chart.height()}, o.heights());
        for (Architecture arch : Architecture.values()) {
            SampleEncoder enc = Models.encoder(arch, 112, SampleEncoder.Options.defaults());
            for (int i = 0; i < data.size(); i++) {
                Sample s = enc.encode(data.get(i));
                assertEquals(enc.length(data.outline(i)), s.length());
                assertEquals(data.get(i).images().size(), s.images());
            }
        }
    }

    @Test
    void readsJsonLines() throws IOException {
        Path file = write("data.jsonl", """
                {"id": "a", "image": "a.png", "conversations": [{"from": "human", "value": "<image>\\nQ1"}, {"from": "gpt", "value": "A1"}]}

                {"id": "b", "conversations": [{"from": "human", "value": "Q2"}, {"from": "gpt", "value": "A2"}]}
                """);
        LlavaDataset data = LlavaDataset.open(file, images);
        assertEquals(2, data.size());
        assertEquals("A1", data.get(0).answer());
        assertEquals("Q2", data.get(1).question());
    }

    @Test
    void missingImageFileNamesTheRecordAndThePath() throws IOException {
        String m = error("d.json", """
                [{"id": "ok", "image": "a.png", "conversations": [{"from": "human", "value": "<image>"}, {"from": "gpt", "value": "x"}]},
                 {"id": "bad", "image": "nope.jpg", "conversations": [{"from": "human", "value": "<image>"}, {"from": "gpt", "value": "x"}]}]
                """);
        assertTrue(m.contains("record 1 (id \"bad\")") && m.contains("missing image file 'nope.jpg'") && m.contains("nope.jpg"), m);
    }

    @Test
    void unknownRoleNamesTheTurn() throws IOException {
        String m = error("d.json", """
                [{"conversations": [{"from": "human", "value": "hi"}, {"from": "bot", "value": "x"}]}]
                """);
        assertTrue(m.contains("record 0") && m.contains("conversations[1]") && m.contains("unknown role \"bot\""), m);
    }

    @Test
    void placeholderCountMustMatchTheImages() throws IOException {
        String fewer = error("d.json", """
                [{"id": "p", "images": ["a.png", "sub/b.png"],
                  "conversations": [{"from": "human", "value": "<image>\\nQ"}, {"from": "gpt", "value": "x"}]}]
                """);
        assertTrue(fewer.contains("record 0 (id \"p\")") && fewer.contains("2 images but 1 <image> placeholder"), fewer);
        String more = error("e.json", """
                [{"conversations": [{"from": "human", "value": "<image>\\nQ"}, {"from": "gpt", "value": "x"}]}]
                """);
        assertTrue(more.contains("0 images but 1 <image> placeholder"), more);
        String inAnswer = error("f.json", """
                [{"image": "a.png", "conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "<image>"}]}]
                """);
        assertTrue(inAnswer.contains("conversations[1]") && inAnswer.contains("only human turns hold images"), inAnswer);
    }

    @Test
    void malformedJsonNamesTheLine() throws IOException {
        String array = error("d.json", "[\n  {\"conversations\": [}\n]\n");
        assertTrue(array.contains("malformed JSON at line 2"), array);
        String lines = error("d.jsonl", """
                {"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]}
                {"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}
                """);
        assertTrue(lines.contains("line 2 (record 1): malformed JSON"), lines);
    }

    @Test
    void conversationsMustAlternateAndEndWithAnAnswer() throws IOException {
        String twice = error("d.json", """
                [{"conversations": [{"from": "human", "value": "Q"}, {"from": "human", "value": "Q"}]}]
                """);
        assertTrue(twice.contains("conversations[1]") && twice.contains("expected a gpt turn"), twice);
        String open = error("e.json", """
                [{"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}, {"from": "human", "value": "Q"}]}]
                """);
        assertTrue(open.contains("must end with a gpt turn"), open);
        String none = error("f.json", "[{\"id\": 1}]");
        assertTrue(none.contains("no \"conversations\" array"), none);
        String notArray = error("g.json", "[{\"conversations\": {\"from\": \"human\"}}]");
        assertTrue(notArray.contains("\"conversations\" must be an array"), notArray);
        String both = error("h.json", """
                [{"image": "a.png", "images": ["a.png"], "conversations": []}]
                """);
        assertTrue(both.contains("both \"image\" and \"images\""), both);
        String empty = error("i.json", "[]");
        assertTrue(empty.contains("no records"), empty);
    }

    @Test
    void anUnreadableImageIsRefusedWhenTheFileIsOpenedNamingTheRecord() throws IOException {
        Files.writeString(images.resolve("broken.png"), "not a png");
        String m = error("d.json", """
                [{"id": "z", "image": "broken.png", "conversations": [{"from": "human", "value": "<image>"}, {"from": "gpt", "value": "x"}]}]
                """);
        assertTrue(m.contains("record 0 (id \"z\"): unusable image: ") && m.contains("broken.png")
                && m.contains("not a supported image format"), m);
    }

    @Test
    void anImageWhosePixelsAreTruncatedFailsWhenReadNamingTheRecord() throws IOException {
        byte[] png = Files.readAllBytes(images.resolve("a.png"));
        Files.write(images.resolve("cut.png"), java.util.Arrays.copyOf(png, 60)); // the header survives, the pixels do not
        Path file = write("d.json", """
                [{"id": "z", "image": "cut.png", "conversations": [{"from": "human", "value": "<image>"}, {"from": "gpt", "value": "x"}]}]
                """);
        LlavaDataset data = LlavaDataset.open(file, images);
        assertArrayEquals(new int[] {red.width()}, data.outline(0).widths());
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> data.get(0));
        assertTrue(e.getMessage().contains("record 0 (id \"z\")") && e.getMessage().contains("cut.png"), e.getMessage());
    }

    private static final String GOOD = """
            {"id": "g%d", "image": "a.png", "conversations": [{"from": "human", "value": "<image>\\nQ"}, {"from": "gpt", "value": "A"}]}""";

    /** Five records in JSON Lines: 0, 2 and 4 good; 1 names a missing image, 3 is malformed JSON. */
    private Path twoBadOfFive() throws IOException {
        return write("mixed.jsonl", String.join("\n", GOOD.formatted(0),
                "{\"id\": \"m\", \"image\": \"nope.png\", \"conversations\": [{\"from\": \"human\", \"value\": \"<image>\"},"
                        + " {\"from\": \"gpt\", \"value\": \"x\"}]}",
                GOOD.formatted(2), "", "{\"conversations\": [", GOOD.formatted(4)) + "\n");
    }

    @Test
    void badRecordsStopTheOpenByDefault() throws IOException {
        Path file = twoBadOfFive();
        DataFormatException e = assertThrows(DataFormatException.class, () -> LlavaDataset.open(file, images));
        assertTrue(e.getMessage().startsWith(file + ": line 2 (record 1) (id \"m\"): missing image file 'nope.png'"), e.getMessage());
    }

    @Test
    void badRecordsAreSkippedUpToTheCapEachNamedWithItsPlaceInTheFile() throws IOException {
        Path file = twoBadOfFive();
        LlavaDataset data = LlavaDataset.open(file, images, new nvlm.model.tiling.ImageLoader(), false, 2);
        assertEquals(List.of("g0", "g2", "g4"), java.util.stream.IntStream.range(0, data.size()).mapToObj(i -> data.get(i).id()).toList());
        assertEquals(List.of(1, 3), data.skipped().stream().map(LlavaDataset.Skipped::index).toList());
        assertTrue(data.skipped().get(0).message().startsWith(file + ": line 2 (record 1) (id \"m\"): missing image file"),
                data.skipped().get(0).message());
        assertTrue(data.skipped().get(1).message().startsWith(file + ": line 5 (record 3): malformed JSON"),
                data.skipped().get(1).message());
        // records keep their place in the file in later messages and default ids
        assertTrue(data.record(2).where().startsWith(file + ": line 6 (record 4)"), data.record(2).where());

        DataFormatException capped = assertThrows(DataFormatException.class,
                () -> LlavaDataset.open(file, images, new nvlm.model.tiling.ImageLoader(), false, 1));
        assertTrue(capped.getMessage().startsWith(file + ": more than 1 bad records") && capped.getMessage().contains("the first: "
                + file + ": line 2 (record 1)") && capped.getMessage().contains("the last: " + file + ": line 5 (record 3)"),
                capped.getMessage());
        assertEquals(List.of(), LlavaDataset.open(write("good.jsonl", GOOD.formatted(0)), images,
                new nvlm.model.tiling.ImageLoader(), false, 5).skipped());
    }

    @Test
    void aFileWithNoGoodRecordIsRefusedEvenWhenSkipping() throws IOException {
        Path file = write("bad.json", "[{\"id\": 1}, 7]");
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> LlavaDataset.open(file, images, new nvlm.model.tiling.ImageLoader(), false, 10));
        assertTrue(e.getMessage().startsWith(file + ": no records left after skipping 2 bad ones (the first: " + file + ": record 0"),
                e.getMessage());
        // a JSON array that does not parse holds no records to skip
        Path broken = write("broken.json", "[{\"id\": 1},");
        assertTrue(assertThrows(DataFormatException.class, () -> LlavaDataset.open(broken, images, new nvlm.model.tiling.ImageLoader(),
                false, 10)).getMessage().startsWith(broken + ": malformed JSON at line 1"));
    }
}
