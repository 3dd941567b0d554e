package nvlm.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
    @Test
    void theLineShowsStepLossLearningRateThroughputAndEta() {
        String line = ProgressBar.format("stage 1", 120, 400, 2.34119, 1e-4, 1234, 12.34, 192);
        assertEquals("stage 1  120/400 [######..............]  30%  loss 2.3412  lr 1.00e-04  1.2k tok/s  12.3 samples/s  ETA 3:12",
                line);
        assertEquals("stage 2    1/400 [....................]   0%  loss -  lr 0.00e+00  - tok/s  - samples/s  ETA -",
                ProgressBar.format("stage 2", 1, 400, Double.NaN, 0, Double.NaN, Double.NaN, Double.NaN));
        assertEquals("1:02:03", ProgressBar.duration(3723));
        assertEquals("3.4M", ProgressBar.compact(3.4e6));
        assertEquals("950", ProgressBar.compact(950));
    }

    private static String capture(ProgressBar.Mode mode, long every, java.util.function.Consumer<ProgressBar> body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        ProgressBar bar = new ProgressBar(out, mode, "stage 1", 10, every);
        body.accept(bar);
        bar.finish();
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void onATerminalTheLineIsRedrawnInPlace() {
        String out = capture(ProgressBar.Mode.BAR, 1, bar -> {
            bar.update(1, 3.0, 1e-3, 100, 1, 90);
            bar.update(2, 2.9, 1e-3, 12345, 10, 8);
            bar.message("checkpoint saved");
            bar.update(3, 2.8, 1e-3, 100, 1, 7);
        });
        // Three updates and the redraw after the message start with \r; clearing for the message takes two more.
        assertEquals(6, out.chars().filter(c -> c == '\r').count(), out);
        assertTrue(out.contains("\rcheckpoint saved\n"), "the message replaces the bar on its line: " + out);
        assertTrue(out.endsWith("\n"), "finish ends the bar's line");
        assertEquals(2, out.chars().filter(c -> c == '\n').count(), "only the message and finish print newlines: " + out);
    }

    @Test
    void offATerminalPlainLinesArePrintedEveryFewStepsAndAtTheEnd() {
        String out = capture(ProgressBar.Mode.LINES, 4, bar -> {
            for (int s = 1; s <= 10; s++) {
                bar.update(s, 1.0, 1e-3, 100, 1, 10 - s);
            }
        });
        String[] lines = out.strip().split("\n");
        assertEquals(3, lines.length, out);
        assertTrue(lines[0].startsWith("stage 1   4/10") && lines[1].startsWith("stage 1   8/10")
                && lines[2].startsWith("stage 1  10/10"), out);
        assertTrue(!out.contains("\r"), "no carriage returns in a log file");
        assertEquals("", capture(ProgressBar.Mode.OFF, 1, bar -> bar.update(1, 1, 1, 1, 1, 1)));
    }

    @Test
    void aCountingBarMeasuresItsOwnRateAndTimeLeftAndStaysQuietAtFirst() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        ProgressBar bar = ProgressBar.counting(out, ProgressBar.Mode.LINES, "evaluation", 40, "examples", 0);
        for (int done = 1; done <= 40; done++) {
            bar.advanceTo(done);
        }
        bar.finish();
        String[] lines = bytes.toString(StandardCharsets.UTF_8).strip().split("\n");
        assertEquals(10, lines.length, "a line every 10%");
        assertTrue(lines[0].matches("evaluation   4/40 \\[##\\.{18}\\]  10%  [0-9.]+ examples/s  ETA [0-9]+:[0-9]{2}"), lines[0]);
        assertTrue(lines[9].startsWith("evaluation  40/40 [####################] 100%") && lines[9].endsWith("ETA 0:00"), lines[9]);

        bytes.reset();
        ProgressBar quick = ProgressBar.counting(out, ProgressBar.Mode.BAR, "loading", 3, "MiB", 3_600_000_000_000L);
        for (int done = 1; done <= 3; done++) {
            quick.advanceTo(done);
        }
        quick.finish();
        assertEquals("", bytes.toString(StandardCharsets.UTF_8), "work done within the quiet second prints nothing");
    }
}
