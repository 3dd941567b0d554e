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
    void anUndecodableImageFailsWhenReadNamingTheRecord() throws IOException {
        Files.writeString(images.resolve("broken.png"), "not a png");
        Path file = write("d.json", """
                [{"id": "z", "image": "broken.png", "conversations": [{"from": "human", "value": "<image>"}, {"from": "gpt", "value": "x"}]}]
                """);
        LlavaDataset data = LlavaDataset.open(file, images);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> data.get(0));
        assertTrue(e.getMessage().contains("record 0 (id \"z\")") && e.getMessage().contains("broken.png"), e.getMessage());
    }
}
