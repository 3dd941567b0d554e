package nvlm.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import nvlm.model.Batch;
import nvlm.model.config.Architecture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nvlm.trainer.recipe.Stage;
import nvlm.trainer.recipe.StageConfig;
import nvlm.trainer.recipe.PaperRecipe;

/**
 * Ctrl-C for real: a child JVM trains, receives SIGINT, saves a checkpoint from the shutdown
 * hook and exits; this JVM resumes the run and must end with exactly the bits of a run that was
 * never interrupted. The child starts with a cold JIT while the reference here is warm, so this
 * also checks that the numerics do not depend on JIT compilation.
 */
class InterruptTest {
    private static final int TOTAL = 6;
    private static final Architecture ARCH = Architecture.D;

    @TempDir
    Path dir;

    static StageConfig config() {
        return PaperRecipe.toy(ARCH, Stage.PRETRAINING).withSteps(TOTAL, 2).withBatch(2, 2);
    }

    /** The child: trains with a slowed-down source, progress lines on stdout, Ctrl-C handled. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            Path run = Path.of(args[0]);
            BatchSource fast = TinyWorld.source(ARCH, 5, 2);
            BatchSource slow = new BatchSource() {
                @Override
                public Batch batch(long step, int microStep) {
                    try {
                        Thread.sleep(150); // keeps the run going long enough for the signal to land mid-run
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return fast.batch(step, microStep);
                }
            };
            PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
            TrainerOptions options = TrainerOptions.quiet(0).withProgress(ProgressBar.Mode.LINES, out, 1).withInterruptHandling(true);
            TrainResult result = Trainer.start(TinyWorld.model(ARCH, 3), config(), slow, run, options).run();
            out.println("RESULT " + result.status() + " " + result.step());
        }
    }

    @Test
    void ctrlCInAChildJvmSavesACheckpointAndTheResumedRunMatchesAnUninterruptedOne() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(sigintIgnored(),
                "SIGINT is ignored in this process (a build started in the background by a non-interactive shell):"
                        + " the child JVM inherits that and installs no Ctrl-C handler, so there is nothing to test");
        Path run = dir.resolve("run");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Child.class.getName(), run.toString())
                .redirectErrorStream(true).start();
        StringBuilder output = new StringBuilder();
        CompletableFuture<Void> signalled = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    synchronized (output) {
                        output.append(line).append('\n');
                    }
                    if (!signalled.isDone() && line.matches("stage 1 +2/" + TOTAL + " .*")) {
                        // After step 2 is logged, press Ctrl-C.
                        new ProcessBuilder("kill", "-INT", Long.toString(child.pid())).start().waitFor();
                        signalled.complete(null);
                    }
                }
            } catch (Exception e) {
                signalled.completeExceptionally(e);
            }
        });
        reader.start();
        boolean exited = child.waitFor(120, TimeUnit.SECONDS);
        if (!exited) {
            child.destroyForcibly();
        }
        reader.join(10_000);
        String log;
        synchronized (output) {
            log = output.toString();
        }
        assertTrue(exited, "child did not exit:\n" + log);
        assertTrue(signalled.isDone(), "child never reached step 2:\n" + log);
        assertEquals(130, child.exitValue(), "exit status after SIGINT (128 + 2):\n" + log);
        assertTrue(log.contains("interrupt: stopping after the current step"), log);
        assertTrue(!log.contains("RESULT COMPLETED"), "the child finished before the signal:\n" + log);

        List<Path> checkpoints = TrainingCheckpoint.list(run);
        assertEquals(1, checkpoints.size(), log);
        long saved = TrainingCheckpoint.stepOf(checkpoints.getFirst());
        assertTrue(saved >= 2 && saved < TOTAL, "checkpoint at step " + saved + "\n" + log);
        assertTrue(log.contains("interrupted after step " + saved), log);
        Map<String, Object> stop = MetricsLog.read(run.resolve(MetricsLog.FILE)).getLast();
        assertEquals("interrupted", stop.get("reason"));

        Trainer resumed = Trainer.resume(run, TinyWorld.source(ARCH, 5, 2), TrainerOptions.quiet(0));
        assertEquals(saved, resumed.step());
        assertEquals(TrainResult.Status.COMPLETED, resumed.run().status());
        Trainer reference = Trainer.start(TinyWorld.model(ARCH, 3), config(), TinyWorld.source(ARCH, 5, 2), dir.resolve("straight"),
                TrainerOptions.quiet(0));
        reference.run();
        assertEquals(List.of(), TinyWorld.differing(TinyWorld.snapshot(reference.model()), TinyWorld.snapshot(resumed.model())));
        assertEquals(List.of(), TinyWorld.differing(TinyWorld.optimizerSnapshot(reference), TinyWorld.optimizerSnapshot(resumed)));
    }

    /** Whether this process ignores SIGINT (Linux: bit 2 of SigIgn in /proc/self/status); children inherit it. */
    private static boolean sigintIgnored() throws java.io.IOException {
        Path status = Path.of("/proc/self/status");
        if (!java.nio.file.Files.isReadable(status)) {
            return false;
        }
        for (String line : java.nio.file.Files.readAllLines(status)) {
            if (line.startsWith("SigIgn:")) {
                return (new java.math.BigInteger(line.substring(7).trim(), 16).longValue() & 0x2L) != 0;
            }
        }
        return false;
    }
}
