package nvlm.trainer.train;

import java.io.Console;
import java.io.PrintStream;
import java.util.Locale;

/**
 * One line of progress on stderr with the time left. Training shows step/total, smoothed loss,
 * learning rate, tokens/s, samples/s and ETA ({@link #update}); other long work (evaluation,
 * loading, benchmarks) counts units done and measures its own rate and ETA ({@link #counting}).
 * On a terminal the line is redrawn in place with {@code \r}; otherwise (a log file, CI) a plain
 * line is printed every {@code linesEvery} steps and at the end.
 *
 * <pre>
 * stage 1  120/400 [######..............]  30%  loss 2.3412  lr 1.00e-04  1.2k tok/s  12.3 samples/s  ETA 3:12
 * evaluation  300/1600 [###.................]  18%  21.4 examples/s  ETA 1:01
 * </pre>
 */
public final class ProgressBar {
    /** How progress is shown. */
    public enum Mode {
        /** Redrawn in place (a terminal). */
        BAR,
        /** Plain lines every few steps (a file or pipe). */
        LINES,
        /** Nothing. */
        OFF;

        /**
         * {@code NVLM_PROGRESS} (bar, lines or off) when set, else BAR when the JVM has a terminal
         * (stderr is assumed to go where stdout goes) and LINES otherwise.
         */
        public static Mode auto() {
            String forced = System.getenv("NVLM_PROGRESS");
            if (forced != null && !forced.isBlank()) {
                try {
                    return valueOf(forced.trim().toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("NVLM_PROGRESS must be bar, lines or off, got '" + forced + "'", e);
                }
            }
            Console console = System.console();
            return console != null && console.isTerminal() ? BAR : LINES;
        }
    }

    private static final int BAR_WIDTH = 20;
    /** A counting bar stays silent this long, so that work which is quick anyway prints nothing. */
    static final long QUIET_NANOS = 1_000_000_000L;

    private final PrintStream out;
    private final Mode mode;
    private final String label;
    private final long total;
    private final long linesEvery;
    private final String unit;
    private final long startNanos = System.nanoTime();
    private final long quietNanos;
    private int drawnWidth;
    private String lastLine;
    private boolean shown;
    private long linesPrinted = -1;

    /** {@code linesEvery}: steps between plain lines in LINES mode. */
    public ProgressBar(PrintStream out, Mode mode, String label, long total, long linesEvery) {
        this(out, mode, label, total, linesEvery, null, 0);
    }

    private ProgressBar(PrintStream out, Mode mode, String label, long total, long linesEvery, String unit, long quietNanos) {
        this.out = out;
        this.mode = mode;
        this.label = label;
        this.total = total;
        this.linesEvery = Math.max(1, linesEvery);
        this.unit = unit;
        this.quietNanos = quietNanos;
    }

    /**
     * A bar over {@code total} units of work ({@code unit}: examples, MiB, cases) that measures its
     * own rate and time left from {@link #advanceTo}. Nothing is shown during its first second; off a
     * terminal a line is printed every 10%.
     */
    public static ProgressBar counting(PrintStream out, Mode mode, String label, long total, String unit) {
        return counting(out, mode, label, total, unit, QUIET_NANOS);
    }

    static ProgressBar counting(PrintStream out, Mode mode, String label, long total, String unit, long quietNanos) {
        // Plain lines every 10%: counted work is usually a part of a longer job's log.
        return new ProgressBar(out, mode, label, Math.max(1, total), Math.max(1, total / 10), unit, quietNanos);
    }

    /** Shows that {@code done} units of a {@link #counting} bar are done. */
    public void advanceTo(long done) {
        long nanos = System.nanoTime() - startNanos;
        if (!shown && nanos < quietNanos) {
            return;
        }
        shown = true;
        double rate = done / (nanos / 1e9);
        String line = label + "  " + counter(done, total) + String.format(Locale.ROOT, "  %s %s/s  ETA %s",
                Double.isFinite(rate) ? String.format(Locale.ROOT, "%.1f", rate) : "-", unit, duration((total - done) / rate));
        show(done, line);
    }

    /** A line every ~5% of the run. */
    public static long defaultLinesEvery(long totalSteps) {
        return Math.max(1, totalSteps / 20);
    }

    /** Shows the state after {@code step}. Rates and ETA may be NaN (unknown yet). */
    public void update(long step, double smoothedLoss, double lr, double tokensPerSecond, double samplesPerSecond,
                       double etaSeconds) {
        show(step, format(label, step, total, smoothedLoss, lr, tokensPerSecond, samplesPerSecond, etaSeconds));
    }

    private void show(long step, String line) {
        lastLine = line;
        switch (mode) {
            case BAR -> redraw(line);
            case LINES -> {
                // Every linesEvery units (a counting bar may skip over the exact multiples) and at the end.
                if (linesPrinted < 0) {
                    linesPrinted = (step - 1) / linesEvery;
                }
                if (step / linesEvery > linesPrinted || step == total) {
                    linesPrinted = step / linesEvery;
                    out.println(line);
                }
            }
            case OFF -> {
            }
        }
    }

    /** Prints a message on its own line, keeping the bar below it. */
    public void message(String text) {
        if (mode == Mode.OFF) {
            return;
        }
        if (mode == Mode.BAR && drawnWidth > 0) {
            clear();
            out.println(text);
            if (lastLine != null) {
                redraw(lastLine);
            }
        } else {
            out.println(text);
        }
        out.flush();
    }

    /** Takes the bar off its line (BAR mode) until the next update, so that other output can be printed there. */
    public void clear() {
        if (mode == Mode.BAR && drawnWidth > 0) {
            out.print("\r" + " ".repeat(drawnWidth) + "\r");
            out.flush();
            drawnWidth = 0;
        }
    }

    /** Ends the bar's line (BAR mode), so later output starts on a fresh line. */
    public void finish() {
        if (mode == Mode.BAR && drawnWidth > 0) {
            out.println();
            drawnWidth = 0;
        }
        out.flush();
    }

    private void redraw(String line) {
        // Pad over the previous, possibly longer, line instead of relying on ANSI erase codes.
        String padding = line.length() < drawnWidth ? " ".repeat(drawnWidth - line.length()) : "";
        out.print("\r" + line + padding);
        out.flush();
        drawnWidth = line.length();
    }

    /** The progress line (no line terminator). */
    public static String format(String label, long step, long total, double loss, double lr, double tokensPerSecond,
                                double samplesPerSecond, double etaSeconds) {
        StringBuilder sb = new StringBuilder();
        sb.append(label).append("  ").append(counter(step, total));
        sb.append("  loss ").append(Double.isNaN(loss) ? "-" : String.format(Locale.ROOT, "%.4f", loss));
        sb.append("  lr ").append(String.format(Locale.ROOT, "%.2e", lr));
        sb.append("  ").append(compact(tokensPerSecond)).append(" tok/s");
        sb.append("  ").append(Double.isFinite(samplesPerSecond) ? String.format(Locale.ROOT, "%.1f", samplesPerSecond) : "-")
                .append(" samples/s");
        sb.append("  ETA ").append(duration(etaSeconds));
        return sb.toString();
    }

    /** {@code  120/400 [######..............]  30%}. */
    private static String counter(long done, long total) {
        double fraction = total > 0 ? Math.min(1.0, (double) done / total) : 0;
        int filled = (int) Math.round(fraction * BAR_WIDTH);
        String digits = String.valueOf(total);
        return String.format(Locale.ROOT, "%" + digits.length() + "d/%s [%s%s] %3d%%", done, digits, "#".repeat(filled),
                ".".repeat(BAR_WIDTH - filled), (int) Math.floor(fraction * 100));
    }

    /** 950, 1.2k, 3.4M. */
    static String compact(double value) {
        if (!Double.isFinite(value)) {
            return "-";
        }
        if (value < 1000) {
            return String.format(Locale.ROOT, "%.0f", value);
        }
        if (value < 1e6) {
            return String.format(Locale.ROOT, "%.1fk", value / 1e3);
        }
        return String.format(Locale.ROOT, "%.1fM", value / 1e6);
    }

    /** 0:42, 3:12, 1:02:03; "-" when unknown. */
    static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) {
            return "-";
        }
        long s = Math.round(seconds);
        long h = s / 3600;
        long m = (s % 3600) / 60;
        long sec = s % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, sec) : String.format(Locale.ROOT, "%d:%02d", m, sec);
    }
}
