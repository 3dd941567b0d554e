package nvlm.trainer.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import nvlm.trainer.train.MetricsLog;

/**
 * {@code report.html}: one page summing up a training pipeline, with PNG plots beside it
 * ({@code loss.png}, {@code lr.png}, {@code accuracy.png}) and the evaluation table. The page
 * has no scripts, styles or images from elsewhere; copy the folder and it still works.
 *
 * <p>Stages are laid end to end on the x axis (stage 2's first step follows stage 1's last),
 * with a dashed line where each stage starts. Accuracy comes from the {@code eval} records of
 * the stages' metrics; a stage without any is plotted at its last step from the evaluation
 * table given for it.
 */
public final class TrainingReport {
    public static final String HTML = "report.html";
    public static final String LOSS_PNG = "loss.png";
    public static final String LR_PNG = "lr.png";
    public static final String ACCURACY_PNG = "accuracy.png";
    public static final String GATES_PNG = "gates.png";
    private static final int WIDTH = 900;
    private static final int HEIGHT = 420;
    /** Smoothing of the plotted loss line (the raw loss is drawn faintly beneath it). */
    private static final double LOSS_SMOOTHING = 0.9;

    private TrainingReport() {
    }

    /**
     * One stage of the pipeline.
     *
     * @param name       shown in legends and tables, e.g. "stage 1"
     * @param metrics    the stage's metrics.jsonl records
     * @param evaluation accuracy per task family after the stage (text-only families named
     *                   {@code text_...}); empty when not evaluated
     */
    public record StageRun(String name, List<Map<String, Object>> metrics, Map<String, Double> evaluation) {
        public StageRun {
            metrics = List.copyOf(metrics);
            evaluation = evaluation == null ? Map.of() : new TreeMap<>(evaluation);
        }

        /** Reads {@code <runDir>/metrics.jsonl}. */
        public static StageRun fromRunFolder(String name, Path runDir, Map<String, Double> evaluation) throws IOException {
            return new StageRun(name, MetricsLog.read(runDir.resolve(MetricsLog.FILE)), evaluation);
        }

        List<Map<String, Object>> records(String type) {
            return metrics.stream().filter(r -> type.equals(r.get("type"))).toList();
        }

        /** Samples, tokens and training seconds summed over the stage's steps. */
        public record Totals(long samples, long tokens, double seconds) {
        }

        public Totals totals() {
            long samples = 0;
            long tokens = 0;
            double seconds = 0;
            for (Map<String, Object> r : records("train")) {
                samples += (long) number(r, "samples");
                tokens += (long) number(r, "tokens");
                seconds += number(r, "seconds");
            }
            return new Totals(samples, tokens, seconds);
        }

        long lastStep() {
            long last = 0;
            for (Map<String, Object> r : records("train")) {
                last = Math.max(last, ((Number) r.get("step")).longValue());
            }
            return last;
        }
    }

    /** Writes the plots and report.html into {@code outDir}; returns the HTML file. */
    public static Path write(Path outDir, String title, List<StageRun> stages) throws IOException {
        Files.createDirectories(outDir);
        long[] offsets = new long[stages.size()];
        long offset = 0;
        for (int i = 0; i < stages.size(); i++) {
            offsets[i] = offset;
            offset += stages.get(i).lastStep();
        }
        LinePlot accuracy = accuracyPlot(stages, offsets);
        boolean hasAccuracy = accuracy != null;
        LinePlot gates = gatesPlot(stages, offsets);
        boolean hasGates = gates != null;
        String plotsMissing = null;
        try {
            lossPlot(stages, offsets).write(outDir.resolve(LOSS_PNG), WIDTH, HEIGHT);
            lrPlot(stages, offsets).write(outDir.resolve(LR_PNG), WIDTH, HEIGHT);
            if (hasAccuracy) {
                accuracy.write(outDir.resolve(ACCURACY_PNG), WIDTH, HEIGHT);
            } else {
                Files.deleteIfExists(outDir.resolve(ACCURACY_PNG));
            }
            if (hasGates) {
                gates.write(outDir.resolve(GATES_PNG), WIDTH, HEIGHT);
            } else {
                Files.deleteIfExists(outDir.resolve(GATES_PNG));
            }
        } catch (IllegalStateException e) {
            // A JDK without fonts (no fontconfig) cannot draw text: the report keeps its tables and says why
            // the plots are missing, rather than failing the run that produced it.
            plotsMissing = e.getMessage();
            hasGates = false;
            for (String png : List.of(LOSS_PNG, LR_PNG, ACCURACY_PNG, GATES_PNG)) {
                Files.deleteIfExists(outDir.resolve(png));
            }
            System.err.println("report: no plots: " + plotsMissing);
        }
        Path html = outDir.resolve(HTML);
        Path tmp = outDir.resolve(HTML + ".tmp");
        Files.writeString(tmp, html(title, stages, hasAccuracy, hasGates, plotsMissing), StandardCharsets.UTF_8);
        Files.move(tmp, html, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return html;
    }

    private static void markStages(LinePlot plot, List<StageRun> stages, long[] offsets) {
        for (int i = 1; i < stages.size(); i++) {
            plot.marker(offsets[i], stages.get(i).name());
        }
    }

    static LinePlot lossPlot(List<StageRun> stages, long[] offsets) {
        LinePlot plot = new LinePlot("Training loss", "step (all stages)", "loss");
        for (int i = 0; i < stages.size(); i++) {
            List<Map<String, Object>> train = stages.get(i).records("train");
            double[] x = new double[train.size()];
            double[] y = new double[train.size()];
            double[] smooth = new double[train.size()];
            double average = 0;
            for (int j = 0; j < train.size(); j++) {
                x[j] = offsets[i] + number(train.get(j), "step");
                y[j] = number(train.get(j), "loss");
                average = LOSS_SMOOTHING * average + (1 - LOSS_SMOOTHING) * y[j];
                smooth[j] = average / (1 - Math.pow(LOSS_SMOOTHING, j + 1));
            }
            var color = plot.nextColor();
            plot.add(new LinePlot.Series(stages.get(i).name() + " (raw)", x, y, color, true, false));
            plot.add(new LinePlot.Series(stages.get(i).name(), x, smooth, color, false, false));
        }
        markStages(plot, stages, offsets);
        return plot;
    }

    static LinePlot lrPlot(List<StageRun> stages, long[] offsets) {
        LinePlot plot = new LinePlot("Learning rate", "step (all stages)", "learning rate");
        for (int i = 0; i < stages.size(); i++) {
            List<Map<String, Object>> train = stages.get(i).records("train");
            double[] x = new double[train.size()];
            double[] y = new double[train.size()];
            for (int j = 0; j < train.size(); j++) {
                x[j] = offsets[i] + number(train.get(j), "step");
                y[j] = number(train.get(j), "lr");
            }
            plot.line(stages.get(i).name(), x, y);
        }
        markStages(plot, stages, offsets);
        return plot;
    }

    /**
     * tanh of every cross-attention block's gates per step (NVLM-X and -H; metrics.jsonl's
     * {@code tanh_attn_gate}, {@code tanh_ff_gate}): strong lines the attention gate, faint ones the MLP gate
     * of the same block. Null when no stage has any (NVLM-D).
     */
    static LinePlot gatesPlot(List<StageRun> stages, long[] offsets) {
        Map<String, List<double[]>> points = new TreeMap<>();
        for (int i = 0; i < stages.size(); i++) {
            for (Map<String, Object> r : stages.get(i).records("train")) {
                double x = offsets[i] + number(r, "step");
                for (String key : List.of("tanh_attn_gate", "tanh_ff_gate")) {
                    if (r.get(key) instanceof List<?> values) {
                        for (int b = 0; b < values.size(); b++) {
                            if (values.get(b) instanceof Number n) {
                                String name = String.format(Locale.ROOT, "block %d %s", b, key.equals("tanh_attn_gate") ? "attn" : "mlp");
                                points.computeIfAbsent(name, k -> new ArrayList<>()).add(new double[] {x, n.doubleValue()});
                            }
                        }
                    }
                }
            }
        }
        if (points.isEmpty()) {
            return null;
        }
        LinePlot plot = new LinePlot("tanh(gate) of each cross-attention block", "step (all stages)", "tanh(gate)");
        Map<String, java.awt.Color> blockColors = new TreeMap<>();
        points.forEach((name, list) -> {
            double[][] xy = columns(list);
            String block = name.substring(0, name.lastIndexOf(' '));
            var color = blockColors.computeIfAbsent(block, k -> plot.nextColor());
            plot.add(new LinePlot.Series(name, xy[0], xy[1], color, name.endsWith("mlp"), false));
        });
        markStages(plot, stages, offsets);
        return plot;
    }

    /** One line per task family across the stages; null when nothing was evaluated. */
    static LinePlot accuracyPlot(List<StageRun> stages, long[] offsets) {
        Map<String, List<double[]>> points = new TreeMap<>();
        for (int i = 0; i < stages.size(); i++) {
            StageRun stage = stages.get(i);
            List<Map<String, Object>> evals = stage.records("eval");
            if (!evals.isEmpty()) {
                for (Map<String, Object> r : evals) {
                    double x = offsets[i] + number(r, "step");
                    if (r.get("accuracy") instanceof Map<?, ?> acc) {
                        acc.forEach((family, value) -> {
                            if (value instanceof Number n) {
                                points.computeIfAbsent(family.toString(), k -> new ArrayList<>()).add(new double[] {x, n.doubleValue()});
                            }
                        });
                    }
                }
            } else {
                double x = offsets[i] + stage.lastStep();
                stage.evaluation().forEach((family, value) ->
                        points.computeIfAbsent(family, k -> new ArrayList<>()).add(new double[] {x, value}));
            }
        }
        if (points.isEmpty()) {
            return null;
        }
        LinePlot plot = new LinePlot("Accuracy per task family", "step (all stages)", "accuracy").yRange(0, 1);
        points.forEach((family, list) -> {
            double[][] xy = columns(list);
            plot.add(new LinePlot.Series(family, xy[0], xy[1], plot.nextColor(), false, true));
        });
        markStages(plot, stages, offsets);
        return plot;
    }

    /** {x, y} columns of (x, y) points. */
    private static double[][] columns(List<double[]> points) {
        double[][] xy = new double[2][points.size()];
        for (int j = 0; j < points.size(); j++) {
            xy[0][j] = points.get(j)[0];
            xy[1][j] = points.get(j)[1];
        }
        return xy;
    }

    private static double number(Map<String, Object> record, String key) {
        return record.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    // ------------------------------------------------------------------ HTML

    /** The page; {@code plotsMissing} (or null) says why there are no plots. */
    static String html(String title, List<StageRun> stages, boolean hasAccuracy, boolean hasGates, String plotsMissing) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").append(escape(title))
                .append("</title>\n<style>\n")
                .append("body { font-family: sans-serif; max-width: 960px; margin: 2em auto; color: #222; }\n")
                .append("table { border-collapse: collapse; margin: 1em 0; }\n")
                .append("th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }\n")
                .append("th:first-child, td:first-child { text-align: left; }\n")
                .append("tr.group td { background: #f3f3f3; font-style: italic; }\n")
                .append("img { max-width: 100%; }\n")
                .append("</style>\n</head>\n<body>\n");
        h.append("<h1>").append(escape(title)).append("</h1>\n");
        h.append("<p>Written ").append(escape(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)))
                .append(".</p>\n");

        h.append("<h2>Stages</h2>\n<table>\n<tr><th>stage</th><th>steps</th><th>final loss</th><th>tokens</th>"
                + "<th>samples</th><th>train time</th><th>samples/s</th><th>ended</th></tr>\n");
        for (StageRun s : stages) {
            List<Map<String, Object>> train = s.records("train");
            StageRun.Totals totals = s.totals();
            double seconds = totals.seconds();
            long tokens = totals.tokens();
            long samples = totals.samples();
            double tail = 0;
            int tailCount = 0;
            for (int j = Math.max(0, train.size() - 10); j < train.size(); j++) {
                tail += number(train.get(j), "loss");
                tailCount++;
            }
            List<Map<String, Object>> stops = s.records("stop");
            String ended = stops.isEmpty() ? "completed" : String.valueOf(stops.getLast().get("reason"));
            h.append("<tr><td>").append(escape(s.name())).append("</td><td>").append(s.lastStep()).append("</td><td>")
                    .append(tailCount == 0 ? "-" : String.format(Locale.ROOT, "%.4f", tail / tailCount)).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%,d", tokens)).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%,d", samples)).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%.1f s", seconds)).append("</td><td>")
                    .append(seconds > 0 ? String.format(Locale.ROOT, "%.2f", samples / seconds) : "-").append("</td><td>")
                    .append(escape(ended)).append("</td></tr>\n");
        }
        h.append("</table>\n<p>Final loss: mean of the last 10 steps.</p>\n");

        h.append("<h2>Evaluation</h2>\n");
        List<StageRun> evaluated = stages.stream().filter(s -> !s.evaluation().isEmpty()).toList();
        if (evaluated.isEmpty()) {
            h.append("<p>No evaluation was given.</p>\n");
        } else {
            TreeSet<String> families = new TreeSet<>();
            evaluated.forEach(s -> families.addAll(s.evaluation().keySet()));
            Map<String, List<String>> groups = new LinkedHashMap<>();
            groups.put("image tasks", families.stream().filter(f -> !f.startsWith("text_")).toList());
            groups.put("text-only tasks", families.stream().filter(f -> f.startsWith("text_")).toList());
            h.append("<table>\n<tr><th>task family</th>");
            evaluated.forEach(s -> h.append("<th>").append(escape(s.name())).append("</th>"));
            h.append("</tr>\n");
            groups.forEach((group, names) -> {
                if (names.isEmpty()) {
                    return;
                }
                h.append("<tr class=\"group\"><td colspan=\"").append(evaluated.size() + 1).append("\">").append(group)
                        .append("</td></tr>\n");
                for (String family : names) {
                    h.append("<tr><td>").append(escape(family)).append("</td>");
                    for (StageRun s : evaluated) {
                        Double v = s.evaluation().get(family);
                        h.append("<td>").append(v == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * v)).append("</td>");
                    }
                    h.append("</tr>\n");
                }
            });
            h.append("</table>\n<p>Exact-match accuracy.</p>\n");
        }

        if (plotsMissing != null) {
            h.append("<h2>Plots</h2>\n<p>No plots: ").append(escape(plotsMissing)).append("</p>\n</body>\n</html>\n");
            return h.toString();
        }
        h.append("<h2>Loss</h2>\n<img src=\"").append(LOSS_PNG).append("\" alt=\"training loss per step\">\n");
        h.append("<h2>Learning rate</h2>\n<img src=\"").append(LR_PNG).append("\" alt=\"learning rate per step\">\n");
        if (hasAccuracy) {
            h.append("<h2>Accuracy</h2>\n<img src=\"").append(ACCURACY_PNG).append("\" alt=\"accuracy per task family\">\n");
        }
        if (hasGates) {
            h.append("<h2>Cross-attention gates</h2>\n<img src=\"").append(GATES_PNG)
                    .append("\" alt=\"tanh of each cross-attention gate per step\">\n<p>tanh(gate) of each block after each step:"
                            + " strong lines the attention gate, faint lines the MLP gate of the same block. At 0 a block passes"
                            + " nothing from the image.</p>\n");
        }
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
