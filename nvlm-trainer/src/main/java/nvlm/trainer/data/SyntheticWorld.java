package nvlm.trainer.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import nvlm.model.tiling.RgbImage;
import nvlm.model.tiling.TagMode;
import nvlm.model.tiling.TilePlan;

/**
 * The embedded synthetic world: the default training and evaluation data, drawn in memory
 * (nothing downloaded, no system fonts). Every sample is a pure function of (config, split,
 * family, index); see {@link Scene} for the pictures, {@link Family} for the questions,
 * {@link Split} for how splits stay disjoint and {@link WorldConfig} for the difficulty knobs.
 *
 * <p>Each image task has two views: the image view ({@link #example}) and the described view
 * ({@link #describedExample}), where the picture is replaced by its caption in text
 * ({@code "Picture: board 2x1: red circle, text K7Q\nWhat does the text say?"}). The described
 * view is stage-0 decoder data: the decoder learns the reasoning (copy the code, count, look up
 * a region, find the tallest bar) on text, and the later stages only teach it to see.
 */
public final class SyntheticWorld {
    public static final String CAPTION_QUESTION = "Describe the picture.";
    public static final String OCR_QUESTION = "What does the text say?";
    public static final String TALLEST_QUESTION = "Which bar is the tallest?";
    /** Most rejected draws before giving up: a split owns at least a few percent of the content space. */
    private static final int MAX_TRIES = 100_000;

    private final WorldConfig config;
    private final List<int[]> grids;
    private final double[] gridWeights;
    private final List<int[]> spatialGrids;
    private final List<int[]> chartGrids;

    public SyntheticWorld(WorldConfig config) {
        this.config = config;
        this.grids = config.grids();
        this.gridWeights = new double[grids.size()];
        for (int i = 0; i < grids.size(); i++) {
            // Grids with two or more tiles both ways shrink text in both directions in the thumbnail; favour them.
            gridWeights[i] = grids.get(i)[0] >= 2 && grids.get(i)[1] >= 2 ? 2 : 1;
        }
        this.spatialGrids = config.spatialGrids();
        this.chartGrids = config.chartGrids();
    }

    public WorldConfig config() {
        return config;
    }

    // ------------------------------------------------------------------ public views

    /** The task of (split, family, index): scene, question, answer and content key. */
    public Task task(Split split, Family family, long index) {
        if (index < 0) {
            throw new IllegalArgumentException("sample index must be >= 0, got " + index);
        }
        SplittableRandom rng = new SplittableRandom(Seeds.derive(config.seed(), split.salt(), family.ordinal(), index));
        for (int attempt = 0; attempt < MAX_TRIES; attempt++) {
            Task t = draw(family, rng);
            if (Split.of(t.key(), config.seed(), config.validationFraction(), config.testFraction()) == split) {
                return t;
            }
        }
        throw new IllegalStateException("world: no " + family.id() + " content of split " + split.id() + " in " + MAX_TRIES
                + " draws; the content space is too small for the split fractions");
    }

    /** The image view: the scene drawn, the question with one {@code <image>} (none for text-only families). */
    public Example example(Split split, Family family, long index) {
        Task t = task(split, family, index);
        List<RgbImage> images = t.scene() == null ? List.of() : List.of(t.scene().render(config));
        return Example.of(id(split, family, index, View.IMAGE), family.id(), images, t.question(), t.answer());
    }

    /** The described view: the caption in place of the image (the same as {@link #example} for text-only families). */
    public Example describedExample(Split split, Family family, long index) {
        return example(split, family, index, View.DESCRIBED, TagMode.NONE);
    }

    /** The example of {@code view}; {@code tagMode} matters to the cells view only (its tile tags). */
    public Example example(Split split, Family family, long index, View view, TagMode tagMode) {
        return example(split, family, index, view, tagMode, 1);
    }

    /**
     * The example of {@code view} as a conversation of up to {@code questions} questions about
     * the same picture: the task's own first, then others the world asks about such pictures
     * ({@link #questions}), in an order drawn from the example's seed. Training data only: the
     * picture (the costly part of a sample) then carries several answers. Text-only families and
     * {@code questions} 1 give the single-question example.
     */
    public Example example(Split split, Family family, long index, View view, TagMode tagMode, int questions) {
        Task t = task(split, family, index);
        if (t.scene() == null || questions <= 1) {
            // A text-only family, or the picture in words: the same single question in every view but the image's.
            return view == View.IMAGE || t.scene() == null ? example(split, family, index)
                    : Example.of(id(split, family, index, view), family.id(), List.of(), question(t, view, tagMode), t.answer());
        }
        List<RgbImage> images = view == View.IMAGE ? List.of(t.scene().render(config)) : List.of();
        return new Example(conversationId(split, family, index, view, questions), family.id(), images,
                conversation(split, family, index, t, view, tagMode, questions));
    }

    /** The example without drawing its picture. */
    public Outline outline(Split split, Family family, long index, boolean described) {
        return outline(split, family, index, described ? View.DESCRIBED : View.IMAGE, TagMode.ONE_D, 1);
    }

    /** The example of {@code view} without drawing its picture. */
    public Outline outline(Split split, Family family, long index, View view, TagMode tagMode) {
        return outline(split, family, index, view, tagMode, 1);
    }

    /** The conversation example of {@code view} without drawing its picture. */
    public Outline outline(Split split, Family family, long index, View view, TagMode tagMode, int questions) {
        Task t = task(split, family, index);
        boolean image = t.scene() != null && view == View.IMAGE;
        int[] w = image ? new int[] {t.scene().cols() * config.tileSize()} : new int[0];
        int[] h = image ? new int[] {t.scene().rows() * config.tileSize()} : new int[0];
        if (t.scene() == null) {
            return new Outline(id(split, family, index, View.IMAGE), family.id(), w, h,
                    List.of(Turn.user(t.question()), Turn.assistant(t.answer())));
        }
        if (questions > 1) {
            return new Outline(conversationId(split, family, index, view, questions), family.id(), w, h,
                    conversation(split, family, index, t, view, tagMode, questions));
        }
        return new Outline(id(split, family, index, view), family.id(), w, h,
                List.of(Turn.user(question(t, view, tagMode)), Turn.assistant(t.answer())));
    }

    private static String conversationId(Split split, Family family, long index, View view, int questions) {
        return id(split, family, index, view) + (questions > 1 ? "/q" + questions : "");
    }

    /** The turns: the picture (in its view) and the task's question, its answer, then the extra questions and answers. */
    private List<Turn> conversation(Split split, Family family, long index, Task t, View view, TagMode tagMode, int questions) {
        List<Turn> turns = new ArrayList<>();
        turns.add(Turn.user(question(t, view, tagMode)));
        turns.add(Turn.assistant(t.answer()));
        if (questions > 1) {
            List<String[]> more = new ArrayList<>(questions(t.scene()));
            more.removeIf(qa -> qa[0].equals(t.question()));
            SplittableRandom rng = new SplittableRandom(Seeds.derive(config.seed(), split.salt(), family.ordinal(), index, 0x9e57L));
            for (int i = more.size() - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                String[] x = more.get(i);
                more.set(i, more.get(j));
                more.set(j, x);
            }
            for (int i = 0; i < Math.min(questions - 1, more.size()); i++) {
                turns.add(Turn.user(more.get(i)[0]));
                turns.add(Turn.assistant(more.get(i)[1]));
            }
            if (view == View.IMAGE) {
                String[] transcription = transcription(t.scene(), rng);
                turns.add(Turn.user(transcription[0]));
                turns.add(Turn.assistant(transcription[1]));
            }
        }
        return turns;
    }

    /**
     * "Transcribe tile k." and the symbols of that tile ({@link CellSymbols#ofTile}), for a tile
     * drawn from {@code rng}: the last turn of every multi-question conversation about a picture
     * (the described view has no tiles to transcribe). A dense captioning task, one answer token
     * per image token of the tile: it tells the projector (and the cross-attention blocks), token
     * by token, what each image token must read as, the toy counterpart of the captioning and OCR
     * data the paper pretrains on (docs/model.md §11).
     */
    String[] transcription(Scene scene, SplittableRandom rng) {
        TilePlan plan = CellSymbols.plan(scene, config);
        int[] classes = scene.cellClasses(config);
        // A tile with glyphs when there is one (a glyph is the hardest image token to align: 36 of them,
        // few per picture, and OCR and chart labels need them all), else one showing something.
        List<Integer> shown = new ArrayList<>();
        List<Integer> glyphs = new ArrayList<>();
        for (int k = 0; k < plan.cols() * plan.rows(); k++) {
            char[] cells = CellSymbols.ofTile(scene, config, classes, k);
            if (!CellSymbols.isEmpty(cells)) {
                shown.add(k);
            }
            if (CellSymbols.hasGlyph(cells)) {
                glyphs.add(k);
            }
        }
        if (!glyphs.isEmpty()) {
            shown = glyphs;
        }
        int k = shown.isEmpty() ? rng.nextInt(plan.cols() * plan.rows()) : shown.get(rng.nextInt(shown.size()));
        return new String[] {transcriptionQuestion(k + 1), new String(CellSymbols.ofTile(scene, config, classes, k))};
    }

    static String transcriptionQuestion(int tile) {
        return "Transcribe tile " + tile + ".";
    }

    /**
     * Every question (with its answer) the world's VQA families ask about pictures like
     * {@code scene}, in a fixed order: OCR of a board's text, what is in each region of a board
     * (grids the spatial family uses), counts of each colour and each shape present in a scatter,
     * a chart's tallest bar and each bar's value. Captioning is not among them.
     */
    public List<String[]> questions(Scene scene) {
        List<String[]> out = new ArrayList<>();
        switch (scene) {
            case Scene.Board b -> {
                if (b.text() != null) {
                    out.add(new String[] {OCR_QUESTION, b.text().code()});
                }
                boolean named = spatialGrids.stream().anyMatch(g -> g[0] == b.cols() && g[1] == b.rows());
                for (int k = 0; named && k < b.items().size(); k++) {
                    out.add(new String[] {spatialQuestion(regionName(b.cols(), b.rows(), k % b.cols(), k / b.cols())),
                            b.items().get(k).describe()});
                }
            }
            case Scene.Scatter sc -> {
                for (Colour c : Colour.values()) {
                    int n = sc.count(c, null);
                    if (n > 0) {
                        out.add(new String[] {colourCountQuestion(c), String.valueOf(n)});
                    }
                }
                for (Shape sh : Shape.values()) {
                    int n = sc.count(null, sh);
                    if (n > 0) {
                        out.add(new String[] {shapeCountQuestion(sh), String.valueOf(n)});
                    }
                }
            }
            case Scene.Chart c -> {
                out.add(new String[] {TALLEST_QUESTION, Scene.Chart.label(c.tallest())});
                for (int i = 0; i < c.values().length; i++) {
                    out.add(new String[] {barValueQuestion(i), String.valueOf(c.values()[i])});
                }
            }
        }
        return out;
    }

    static String spatialQuestion(String region) {
        return "What is in the " + region + " part?";
    }

    static String colourCountQuestion(Colour colour) {
        return "How many " + colour.word() + " shapes are there?";
    }

    static String shapeCountQuestion(Shape shape) {
        return "How many " + shape.plural() + " are there?";
    }

    static String barValueQuestion(int bar) {
        return "What is the value of bar " + Scene.Chart.label(bar) + "?";
    }

    /** Stage-0 vision data: a picture of any kind with per-cell targets (see {@link VisionExample}). */
    public VisionExample visionExample(Split split, long index) {
        Task t = task(split, Family.CAPTION, index);
        return VisionExample.of(t.scene(), config);
    }

    /** The first user turn: the picture as {@code view} shows it ({@code tagMode}: the cells view's tags), then the question. */
    private String question(Task t, View view, TagMode tagMode) {
        String picture = switch (view) {
            case IMAGE -> Turn.IMAGE_PLACEHOLDER;
            case DESCRIBED -> "Picture: " + t.scene().caption();
            case CELLS -> CellSymbols.imageText(t.scene(), config, tagMode);
            case ROWS -> "Picture cells:\n" + CellSymbols.rowsText(t.scene(), config);
        };
        return picture + "\n" + t.question();
    }

    /** "split/family/index", then "/view" for a view other than the image's. */
    private static String id(Split split, Family family, long index, View view) {
        return split.id() + "/" + family.id() + "/" + index + (view == View.IMAGE ? "" : "/" + view.id());
    }

    // ------------------------------------------------------------------ drawing tasks

    private Task draw(Family family, SplittableRandom rng) {
        return switch (family) {
            case CAPTION -> {
                Scene s = switch (rng.nextInt(4)) {
                    case 0 -> board(rng, pickGrid(rng, grids, gridWeights), true);
                    case 1 -> board(rng, pickGrid(rng, grids, gridWeights), false);
                    case 2 -> scatterForCaption(rng);
                    default -> chart(rng);
                };
                yield imageTask(family, s, CAPTION_QUESTION, s.caption());
            }
            case OCR -> {
                Scene.Board b = board(rng, pickGrid(rng, grids, gridWeights), true);
                yield imageTask(family, b, OCR_QUESTION, b.text().code());
            }
            case COUNTING -> counting(rng);
            case SPATIAL -> spatial(rng);
            case CHART -> {
                Scene.Chart c = chart(rng);
                if (rng.nextBoolean()) {
                    yield imageTask(family, c, TALLEST_QUESTION, Scene.Chart.label(c.tallest()));
                }
                int bar = rng.nextInt(c.values().length);
                yield imageTask(family, c, barValueQuestion(bar), String.valueOf(c.values()[bar]));
            }
            case TEXT_ARITHMETIC -> arithmetic(rng);
            case TEXT_STRING -> string(rng);
        };
    }

    private static Task imageTask(Family family, Scene scene, String question, String answer) {
        return new Task(family, scene, question, answer, scene.key());
    }

    private static Task textTask(Family family, String question, String answer) {
        return new Task(family, null, question, answer, family.id() + "|" + question);
    }

    private static int[] pickGrid(SplittableRandom rng, List<int[]> candidates, double[] weights) {
        if (weights == null) {
            return candidates.get(rng.nextInt(candidates.size()));
        }
        double total = 0;
        for (double w : weights) {
            total += w;
        }
        double u = rng.nextDouble() * total;
        for (int i = 0; i < candidates.size(); i++) {
            u -= weights[i];
            if (u < 0) {
                return candidates.get(i);
            }
        }
        return candidates.getLast();
    }

    private Scene.Figure figure(SplittableRandom rng) {
        return new Scene.Figure(Shape.values()[rng.nextInt(config.shapes())], Colour.values()[rng.nextInt(config.colours())]);
    }

    private int[] jitter(SplittableRandom rng, int glyphs) {
        int r = config.glyphJitter();
        int[] j = new int[2 * glyphs];
        for (int i = 0; i < j.length; i++) {
            j[i] = rng.nextInt(2 * r + 1) - r;
        }
        return j;
    }

    /** A board: with text, one tile holds a code and the others a shape (or, one time in four, nothing); without, every tile a shape. */
    private Scene.Board board(SplittableRandom rng, int[] grid, boolean withText) {
        int tiles = grid[0] * grid[1];
        int textTile = withText ? rng.nextInt(tiles) : -1;
        List<Scene.Item> items = new ArrayList<>(tiles);
        for (int k = 0; k < tiles; k++) {
            if (k == textTile) {
                items.add(text(rng));
            } else if (withText && rng.nextInt(4) == 0) {
                items.add(new Scene.Blank());
            } else {
                items.add(figure(rng));
            }
        }
        return new Scene.Board(grid[0], grid[1], items);
    }

    private Scene.Text text(SplittableRandom rng) {
        int n = config.cellsPerTile();
        int length = config.codeMinLength() + rng.nextInt(config.codeMaxLength() - config.codeMinLength() + 1);
        StringBuilder code = new StringBuilder();
        for (int i = 0; i < length; i++) {
            code.append(config.ocrAlphabet().charAt(rng.nextInt(config.ocrAlphabet().length())));
        }
        return new Scene.Text(code.toString(), rng.nextInt(n - length + 1), rng.nextInt(n), jitter(rng, length));
    }

    private Task spatial(SplittableRandom rng) {
        int[] grid = pickGrid(rng, spatialGrids, null);
        Scene.Board b = board(rng, grid, false);
        int k = rng.nextInt(grid[0] * grid[1]);
        String region = regionName(grid[0], grid[1], k % grid[0], k / grid[0]);
        return imageTask(Family.SPATIAL, b, spatialQuestion(region), b.items().get(k).describe());
    }

    /** "top left", "bottom", "middle right", ...: rows top/middle/bottom, columns left/middle/right; a side with one tile is not named. */
    static String regionName(int cols, int rows, int col, int row) {
        String r = switch (rows) {
            case 1 -> "";
            case 2 -> row == 0 ? "top" : "bottom";
            case 3 -> new String[] {"top", "middle", "bottom"}[row];
            default -> throw new IllegalArgumentException("regions are named for at most 3 rows, got " + rows);
        };
        String c = switch (cols) {
            case 1 -> "";
            case 2 -> col == 0 ? "left" : "right";
            case 3 -> new String[] {"left", "middle", "right"}[col];
            default -> throw new IllegalArgumentException("regions are named for at most 3 columns, got " + cols);
        };
        if (r.equals("middle") && c.equals("middle")) {
            return "center";
        }
        return (r + " " + c).strip();
    }

    private Task counting(SplittableRandom rng) {
        int[] grid = pickGrid(rng, grids, gridWeights);
        boolean byColour = config.shapes() == 1 || (config.colours() > 1 && rng.nextBoolean());
        Colour colour = byColour ? Colour.values()[rng.nextInt(config.colours())] : null;
        Shape shape = byColour ? null : Shape.values()[rng.nextInt(config.shapes())];
        int count = 1 + rng.nextInt(config.maxCount());
        int distractors = rng.nextInt(config.maxDistractors() + 1);
        List<Scene.Placed> placed = new ArrayList<>();
        int[] cells = freeCells(rng, grid, count + distractors);
        for (int i = 0; i < count + distractors; i++) {
            Colour c;
            Shape s;
            if (i < count) {
                c = byColour ? colour : Colour.values()[rng.nextInt(config.colours())];
                s = byColour ? Shape.values()[rng.nextInt(config.shapes())] : shape;
            } else if (byColour) {
                c = Colour.values()[otherThan(rng, config.colours(), colour.ordinal())];
                s = Shape.values()[rng.nextInt(config.shapes())];
            } else {
                c = Colour.values()[rng.nextInt(config.colours())];
                s = Shape.values()[otherThan(rng, config.shapes(), shape.ordinal())];
            }
            placed.add(new Scene.Placed(s, c, cells[2 * i], cells[2 * i + 1]));
        }
        Scene.Scatter scene = new Scene.Scatter(grid[0], grid[1], placed);
        String question = byColour ? colourCountQuestion(colour) : shapeCountQuestion(shape);
        return imageTask(Family.COUNTING, scene, question, String.valueOf(count));
    }

    private Scene.Scatter scatterForCaption(SplittableRandom rng) {
        int[] grid = pickGrid(rng, grids, gridWeights);
        int n = 1 + rng.nextInt(config.maxCount());
        int[] cells = freeCells(rng, grid, n);
        List<Scene.Placed> placed = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Scene.Figure f = figure(rng);
            placed.add(new Scene.Placed(f.shape(), f.colour(), cells[2 * i], cells[2 * i + 1]));
        }
        return new Scene.Scatter(grid[0], grid[1], placed);
    }

    private static int otherThan(SplittableRandom rng, int n, int excluded) {
        int v = rng.nextInt(n - 1);
        return v >= excluded ? v + 1 : v;
    }

    /** {@code n} distinct cells {x0, y0, x1, y1, ...} of the image, uniformly (partial Fisher-Yates). */
    private int[] freeCells(SplittableRandom rng, int[] grid, int n) {
        int width = grid[0] * config.cellsPerTile();
        int total = width * grid[1] * config.cellsPerTile();
        int[] order = new int[total];
        for (int i = 0; i < total; i++) {
            order[i] = i;
        }
        int[] out = new int[2 * n];
        for (int i = 0; i < n; i++) {
            int j = i + rng.nextInt(total - i);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
            out[2 * i] = order[i] % width;
            out[2 * i + 1] = order[i] / width;
        }
        return out;
    }

    private Scene.Chart chart(SplittableRandom rng) {
        int[] grid = pickGrid(rng, chartGrids, null);
        int width = grid[0] * config.cellsPerTile();
        int height = grid[1] * config.cellsPerTile();
        int maxBars = Math.min(config.chartMaxBars(), (width + 1) / 2);
        int bars = config.chartMinBars() + rng.nextInt(maxBars - config.chartMinBars() + 1);
        int maxValue = Math.min(config.chartMaxValue(), height - 2);
        int[] values = new int[bars];
        while (true) {
            for (int i = 0; i < bars; i++) {
                values[i] = 1 + rng.nextInt(maxValue);
            }
            int max = 0;
            int ties = 0;
            for (int v : values) {
                if (v > max) {
                    max = v;
                    ties = 1;
                } else if (v == max) {
                    ties++;
                }
            }
            if (ties == 1) {
                break;
            }
        }
        Colour colour = Colour.values()[rng.nextInt(config.colours())];
        return new Scene.Chart(grid[0], grid[1], values, colour, (width - (2 * bars - 1)) / 2, jitter(rng, bars));
    }

    private Task arithmetic(SplittableRandom rng) {
        int a = rng.nextInt(config.arithmeticMax() + 1);
        int b = rng.nextInt(config.arithmeticMax() + 1);
        if (rng.nextBoolean()) {
            return textTask(Family.TEXT_ARITHMETIC, "What is " + a + "+" + b + "?", String.valueOf(a + b));
        }
        int hi = Math.max(a, b);
        int lo = Math.min(a, b);
        return textTask(Family.TEXT_ARITHMETIC, "What is " + hi + "-" + lo + "?", String.valueOf(hi - lo));
    }

    private Task string(SplittableRandom rng) {
        int length = config.stringMinLength() + rng.nextInt(config.stringMaxLength() - config.stringMinLength() + 1);
        char[] s = new char[length];
        for (int i = 0; i < length; i++) {
            s[i] = config.stringAlphabet().charAt(rng.nextInt(config.stringAlphabet().length()));
        }
        String word = new String(s);
        return switch (rng.nextInt(3)) {
            case 0 -> textTask(Family.TEXT_STRING, "Reverse the letters " + word + ".", new StringBuilder(word).reverse().toString());
            case 1 -> {
                char[] sorted = s.clone();
                java.util.Arrays.sort(sorted);
                yield textTask(Family.TEXT_STRING, "Sort the letters " + word + ".", new String(sorted));
            }
            default -> textTask(Family.TEXT_STRING, "Write " + word.toLowerCase(Locale.ROOT) + " in capital letters.", word);
        };
    }
}
