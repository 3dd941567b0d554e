package nvlm.trainer.data;

import java.util.List;
import nvlm.model.prompt.Role;
import nvlm.model.tiling.RgbImage;

/**
 * One training or evaluation example before tiling and tokenization, the common form of the
 * synthetic world and of user data ({@link LlavaDataset}): images and a conversation whose user
 * turns hold one {@value Turn#IMAGE_PLACEHOLDER} per image, in order. The last assistant turn is
 * the answer that evaluation compares against.
 *
 * @param id     a stable name ("train/ocr/17", or the record's id)
 * @param family the task family id ({@link Family#id()}, or the user data's own)
 */
public record Example(String id, String family, List<RgbImage> images, List<Turn> turns) {
    public Example {
        images = List.copyOf(images);
        turns = List.copyOf(turns);
        int placeholders = 0;
        for (int i = 0; i < turns.size(); i++) {
            Turn t = turns.get(i);
            if (t.role() != Role.USER && t.placeholders() > 0) {
                throw new IllegalArgumentException("example " + id + ": turn " + i + " (" + t.role().chatml() + ") holds an "
                        + Turn.IMAGE_PLACEHOLDER + " placeholder; only user turns hold images");
            }
            placeholders += t.placeholders();
        }
        if (placeholders != images.size()) {
            throw new IllegalArgumentException("example " + id + " has " + images.size() + " images but " + placeholders + " "
                    + Turn.IMAGE_PLACEHOLDER + " placeholders");
        }
        if (turns.isEmpty() || turns.getLast().role() != Role.ASSISTANT) {
            throw new IllegalArgumentException("example " + id + " must end with an assistant turn (the answer)");
        }
    }

    /** A single-turn example: {@code <image>\n} per image, then the question; the answer. */
    public static Example of(String id, String family, List<RgbImage> images, String question, String answer) {
        return new Example(id, family, images, List.of(Turn.user((Turn.IMAGE_PLACEHOLDER + "\n").repeat(images.size()) + question),
                Turn.assistant(answer)));
    }

    /** The last user turn without its image placeholders. */
    public String question() {
        for (int i = turns.size() - 1; i >= 0; i--) {
            if (turns.get(i).role() == Role.USER) {
                return turns.get(i).text().replace(Turn.IMAGE_PLACEHOLDER + "\n", "").replace(Turn.IMAGE_PLACEHOLDER, "").strip();
            }
        }
        return "";
    }

    /** The last assistant turn: the reference answer. */
    public String answer() {
        return turns.getLast().text();
    }

    /** Everything but the answer: the prompt of a generation. */
    public List<Turn> promptTurns() {
        return turns.subList(0, turns.size() - 1);
    }

    public Outline outline() {
        int[] w = new int[images.size()];
        int[] h = new int[images.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = images.get(i).width();
            h[i] = images.get(i).height();
        }
        return new Outline(id, family, w, h, turns);
    }
}
