package nvlm.model.prompt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import nvlm.model.config.Architecture;
import nvlm.model.config.SpecialTokens;
import nvlm.model.tiling.TagMode;
import nvlm.model.tokenizer.ProjectTokenizer;
import org.junit.jupiter.api.Test;

class BatchArraysTest {
    private static final PromptBuilder X = new PromptBuilder(Architecture.X, 2, 2, SpecialTokens.project(),
            ProjectTokenizer.instance(), ChatTemplate.withoutDefaultSystem());

    @Test
    void rowsArePaddedAndImagesNumberedAcrossTheBatch() {
        Sample a = X.build(List.of(Message.user("text only"), Message.assistant("yes")));
        Sample b = X.build(List.of(Message.user(PromptBuilderTest.image(TagMode.ONE_D, 0), "q"), Message.assistant("a"),
                Message.user(PromptBuilderTest.image(TagMode.TWO_D_BBOX, 1000), "r")));
        Sample c = X.build(List.of(Message.user(PromptBuilderTest.image(TagMode.TWO_D_GRID, 5000), "s")));
        BatchArrays batch = BatchArrays.collate(List.of(a, b, c), ProjectTokenizer.PAD);
        int length = Math.max(a.length(), Math.max(b.length(), c.length()));
        assertEquals(length, batch.length());
        assertArrayEquals(new long[] {3, length}, batch.shape("input_ids"));
        // Row 0: its tokens, then padding.
        for (int t = 0; t < length; t++) {
            long expectedId = t < a.length() ? a.inputIds()[t] : ProjectTokenizer.PAD;
            assertEquals(expectedId, batch.inputIds()[t]);
            assertEquals(t < a.length() ? a.labels()[t] : -100, batch.labels()[t]);
            assertEquals(-1, batch.mediaImage()[t], "row 0 has no image");
        }
        // Row 1's images are 0 and 1, row 2's image is 2.
        for (int t = 0; t < b.length(); t++) {
            assertEquals(b.mediaImage()[t], batch.mediaImage()[length + t]);
            assertEquals(b.mediaTile()[t], batch.mediaTile()[length + t]);
        }
        for (int t = 0; t < length; t++) {
            long expected = t < c.length() && c.mediaImage()[t] >= 0 ? c.mediaImage()[t] + 2 : -1;
            assertEquals(expected, batch.mediaImage()[2 * length + t]);
        }
        assertArrayEquals(new long[] {3, 3, 3}, batch.imageTiles());
        assertArrayEquals(new long[] {1, 1, 2}, batch.imageRow());
        assertEquals(9, batch.tiles());
        assertArrayEquals(new long[] {9, 3, 2, 2}, batch.shape("pixel_values"));
        assertEquals(0f, batch.pixelValues()[0]);
        assertEquals(1000f, batch.pixelValues()[3 * 12]);
        assertEquals(5000f, batch.pixelValues()[6 * 12]);
        // Tags: 1d ones are five tokens (< tile _ 1 >), bbox ones 24 ("<", "tile", "_bbox" and
        // 21 bytes); padded with -1 to the longest.
        int[] tile1 = ProjectTokenizer.instance().encode("<tile_1>");
        assertEquals(24, batch.tagLength());
        assertArrayEquals(java.util.Arrays.stream(tile1).asLongStream().toArray(), Arrays.copyOf(batch.tileTagIds(), tile1.length));
        assertEquals(-1, batch.tileTagIds()[tile1.length]);
        long[] bboxTag = Arrays.copyOfRange(batch.tileTagIds(), 3 * 24, 4 * 24);
        assertEquals('<', bboxTag[0]);
        assertEquals('>', bboxTag[23]);
        assertEquals(ProjectTokenizer.instance().tokenId("_global"), batch.tileTagIds()[5 * 24 + 2]);
    }

    @Test
    void aFixedLengthShorterThanASampleIsAnError() {
        Sample a = X.build(List.of(Message.user("0123456789")));
        String message = assertThrows(IllegalArgumentException.class,
                () -> BatchArrays.collate(List.of(a), ProjectTokenizer.PAD, 5)).getMessage();
        assertEquals("sample 0 has " + a.length() + " tokens, more than the batch length 5", message);
    }
}
