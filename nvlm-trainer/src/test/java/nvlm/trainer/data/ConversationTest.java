package nvlm.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import nvlm.model.prompt.Role;
import nvlm.model.tiling.TagMode;
import org.junit.jupiter.api.Test;

/** Several questions about one picture: the first is the task's own, the others are true of the same picture. */
class ConversationTest {
    private static final SyntheticWorld WORLD = new SyntheticWorld(WorldConfig.defaults(112).withSeed(5));

    @Test
    void theFirstTurnIsTheSingleQuestionExampleAndTheRestAreDistinctQuestionsOfThatPicture() {
        for (Family f : Family.values()) {
            for (View view : View.values()) {
                for (int i = 0; i < 15; i++) {
                    Example single = WORLD.example(Split.TRAIN, f, i, view, TagMode.ONE_D);
                    Example many = WORLD.example(Split.TRAIN, f, i, view, TagMode.ONE_D, 4);
                    String where = f.id() + "/" + view.id() + "/" + i;
                    assertEquals(single.turns(), many.turns().subList(0, 2), where);
                    assertEquals(single.images().size(), many.images().size(), where);
                    if (!f.hasImage()) {
                        assertEquals(2, many.turns().size(), where + ": text-only tasks stay single");
                        continue;
                    }
                    assertTrue(many.turns().size() <= 10, where);
                    Task task = WORLD.task(Split.TRAIN, f, i);
                    List<String[]> all = WORLD.questions(task.scene());
                    Set<String> asked = new HashSet<>();
                    int last = many.turns().size();
                    if (view == View.IMAGE) { // a described picture has no tiles to transcribe
                        last -= 2;
                        assertTranscribesATile(task.scene(), many.turns().get(last).text(), many.turns().get(last + 1).text(), view, where);
                    } else {
                        assertTrue(many.turns().stream().noneMatch(t -> t.text().startsWith("Transcribe tile")), where);
                    }
                    for (int t = 0; t < last; t += 2) {
                        assertEquals(Role.USER, many.turns().get(t).role());
                        assertEquals(Role.ASSISTANT, many.turns().get(t + 1).role());
                        String q = t == 0 ? task.question() : many.turns().get(t).text();
                        assertTrue(asked.add(q), where + ": asked twice: " + q);
                        if (t > 0) {
                            String a = many.turns().get(t + 1).text();
                            assertTrue(all.stream().anyMatch(qa -> qa[0].equals(q) && qa[1].equals(a)), where + ": " + q + " -> " + a);
                        }
                    }
                    assertEquals(WORLD.outline(Split.TRAIN, f, i, view, TagMode.ONE_D, 4).turns(), many.turns(), where + ": outline");
                }
            }
        }
    }

    /** The last turn asks for one tile, and the answer is that tile's symbols in the cells view (after its tag). */
    private static void assertTranscribesATile(Scene scene, String question, String answer, View view, String where) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Transcribe tile (\\d+)\\.").matcher(question);
        assertTrue(m.matches(), where + ": last question " + question);
        int tile = Integer.parseInt(m.group(1));
        String cells = CellSymbols.imageText(scene, WORLD.config(), TagMode.ONE_D);
        // The tiles in prompt order (a single tile carries the thumbnail tag, docs/model.md §1 and §6).
        List<String> tiles = java.util.Arrays.stream(cells.replace("</Image>", "").split("<tile_[^>]*>")).skip(1).toList();
        assertTrue(tile >= 1 && tile <= tiles.size(), where + ": no tile " + tile + " in " + cells);
        assertEquals(tiles.get(tile - 1), answer, where);
        assertTrue(!CellSymbols.isEmpty(answer.toCharArray()) || CellSymbols.isEmpty(cells.replaceAll("<[^>]*>", "")
                .replace("?", "").toCharArray()), where + ": an empty tile was chosen though some tile shows something");
        if (view == View.IMAGE && tiles.stream().anyMatch(t -> CellSymbols.hasGlyph(t.toCharArray()))) {
            assertTrue(CellSymbols.hasGlyph(answer.toCharArray()), where + ": on a picture with glyphs, a tile with glyphs: " + answer);
        }
    }

    @Test
    void questionsAreAnsweredFromThePicture() {
        Scene.Chart chart = new Scene.Chart(2, 2, new int[] {3, 5, 1}, Colour.RED, 1, new int[6]);
        List<String[]> q = WORLD.questions(chart);
        assertEquals(List.of("Which bar is the tallest?|B", "What is the value of bar A?|3", "What is the value of bar B?|5",
                "What is the value of bar C?|1"), q.stream().map(x -> x[0] + "|" + x[1]).toList());
        Scene.Scatter scatter = new Scene.Scatter(1, 1, List.of(new Scene.Placed(Shape.CIRCLE, Colour.RED, 0, 0),
                new Scene.Placed(Shape.SQUARE, Colour.RED, 1, 0), new Scene.Placed(Shape.CIRCLE, Colour.BLUE, 2, 0)));
        assertEquals(List.of("How many red shapes are there?|2", "How many blue shapes are there?|1", "How many circles are there?|2",
                "How many squares are there?|1"), WORLD.questions(scatter).stream().map(x -> x[0] + "|" + x[1]).toList());
        Scene.Board board = new Scene.Board(2, 1, List.of(new Scene.Text("K7Q", 0, 1, new int[6]), new Scene.Figure(Shape.SQUARE,
                Colour.GREEN)));
        assertEquals(List.of("What does the text say?|K7Q", "What is in the left part?|text K7Q", "What is in the right part?|green square"),
                WORLD.questions(board).stream().map(x -> x[0] + "|" + x[1]).toList());
    }
}
