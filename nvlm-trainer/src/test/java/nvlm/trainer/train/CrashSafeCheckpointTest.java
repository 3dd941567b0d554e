package nvlm.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.checkpoint.ModelFolder;
import nvlm.model.config.Architecture;
import nvlm.tensor.io.AtomicFolder;
import nvlm.trainer.recipe.PaperRecipe;
import nvlm.trainer.recipe.Stage;
import nvlm.trainer.recipe.StageConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nvlm.trainer.recipe.Stage;
import nvlm.trainer.recipe.StageConfig;
import nvlm.trainer.recipe.PaperRecipe;

/**
 * Checkpoints survive crashes: a damaged newest checkpoint is skipped for the one before (named
 * in the message), a save that did not reach its COMMIT marker is not a checkpoint, saving the same
 * step again never leaves the run without one, kill -9 at random moments (inside saves too)
 * never loses the run nor changes its bits, and a second process cannot train in a run folder.
 */
class CrashSafeCheckpointTest {
    private static final Architecture ARCH = Architecture.D;
    private static final int TOTAL = 6;

    @TempDir
    Path dir;

    static StageConfig config() {
        return PaperRecipe.toy(ARCH, Stage.PRETRAINING).withSteps(TOTAL, 2).withBatch(2, 2);
    }

    private static Trainer reference(Path run) throws IOException {
        Trainer t = Trainer.start(TinyWorld.model(ARCH, 3), config(), TinyWorld.source(ARCH, 5, 2), run, TrainerOptions.quiet(0));
        t.run();
        return t;
    }

    /** Trains the first {@code steps} steps of the stage with a checkpoint every {@code every} steps, then "crashes". */
    private static void trainUntil(Path run, int steps, int every, int keep) throws IOException {
        BatchSource inner = TinyWorld.source(ARCH, 5, 2);
        BatchSource crashing = (step, micro) -> {
            if (step > steps) {
                throw new IllegalStateException("simulated crash at step " + step);
            }
            return inner.batch(step, micro);
        };
        Trainer t = Trainer.start(TinyWorld.model(ARCH, 3), config(), crashing, run,
                TrainerOptions.quiet(every).withKeepCheckpoints(keep));
        assertThrows(IllegalStateException.class, t::run);
    }

    private static void truncate(Path file, long length) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(length);
        }
    }

    @Test
    void aDamagedNewestCheckpointIsSkippedForThePreviousOneAndNamed() throws Exception {
        Trainer straight = reference(dir.resolve("straight"));
        Path run = dir.resolve("run");
        trainUntil(run, 4, 2, 2);
        assertEquals(List.of(TrainingCheckpoint.folder(run, 2), TrainingCheckpoint.folder(run, 4)), TrainingCheckpoint.list(run));
        Path newest = TrainingCheckpoint.folder(run, 4);
        truncate(newest.resolve(TrainingCheckpoint.OPTIMIZER), 100);

        List<String> skipped = new ArrayList<>();
        assertEquals(TrainingCheckpoint.folder(run, 2), TrainingCheckpoint.usable(run, skipped::add).orElseThrow());
        assertEquals(1, skipped.size(), skipped.toString());
        assertTrue(skipped.getFirst().startsWith("skipping damaged checkpoint " + newest + ": "), skipped.getFirst());
        assertTrue(skipped.getFirst().contains("optimizer.safetensors has 100 bytes"), skipped.getFirst());
        assertTrue(skipped.getFirst().endsWith("trying step-00000002"), skipped.getFirst());

        Trainer resumed = Trainer.resume(run, TinyWorld.source(ARCH, 5, 2), TrainerOptions.quiet(2));
        assertEquals(2, resumed.step());
        resumed.run();
        assertEquals(List.of(), TinyWorld.differing(TinyWorld.snapshot(straight.model()), TinyWorld.snapshot(resumed.model())));
    }

    @Test
    void aFlippedByteOrAnEmptyTrainerJsonIsCaughtNotTrusted() throws Exception {
        Path run = dir.resolve("run");
        trainUntil(run, 4, 2, 2);
        Path newest = TrainingCheckpoint.folder(run, 4);
        Path weights = newest.resolve("model/model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        bytes[bytes.length - 3] ^= 0x40;
        Files.write(weights, bytes);
        IOException flipped = assertThrows(IOException.class, () -> TrainingCheckpoint.verify(newest));
        assertTrue(flipped.getMessage().contains("model.safetensors: contents differ from when it was saved"), flipped.getMessage());

        Path older = TrainingCheckpoint.folder(run, 2);
        Files.writeString(older.resolve(TrainingCheckpoint.STATE), "");
        List<String> skipped = new ArrayList<>();
        assertTrue(TrainingCheckpoint.usable(run, skipped::add).isEmpty());
        assertEquals(2, skipped.size());
        assertTrue(skipped.get(1).contains(older.resolve(TrainingCheckpoint.STATE).toString()), skipped.get(1));
        assertTrue(skipped.get(1).endsWith("no older checkpoint left"), skipped.get(1));
        IllegalStateException none = assertThrows(IllegalStateException.class,
                () -> Trainer.resume(run, TinyWorld.source(ARCH, 5, 2), TrainerOptions.quiet(2)));
        assertTrue(none.getMessage().contains("holds no complete checkpoint"), none.getMessage());
    }

    @Test
    void aSaveKilledBeforeItsCommitMarkerIsNotACheckpoint() throws Exception {
        Path run = dir.resolve("run");
        trainUntil(run, 4, 2, 2);
        Files.delete(TrainingCheckpoint.folder(run, 4).resolve(TrainingCheckpoint.COMMIT));
        assertEquals(List.of(TrainingCheckpoint.folder(run, 2)), TrainingCheckpoint.list(run));
        assertEquals(2, Trainer.resume(run, TinyWorld.source(ARCH, 5, 2), TrainerOptions.quiet(2)).step());
    }

    @Test
    void savingTheSameStepAgainIsOneRenameBesideTheOldOne() throws Exception {
        Path run = dir.resolve("run");
        trainUntil(run, 2, 2, 1);
        Trainer t = Trainer.resume(run, TinyWorld.source(ARCH, 5, 2), TrainerOptions.quiet(2).withKeepCheckpoints(1));
        Path again = t.saveCheckpoint();
        assertEquals("step-00000002.r1", again.getFileName().toString());
        assertEquals(2, TrainingCheckpoint.stepOf(again));
        // --keep 1: the older copy of the step goes only after the new one is in place
        assertEquals(List.of(again), TrainingCheckpoint.list(run));
        assertEquals("step-00000002.r2", t.saveCheckpoint().getFileName().toString());
        assertEquals(2, Trainer.resume(run, TinyWorld.source(ARCH, 5, 2), TrainerOptions.quiet(2)).step());
    }

    /** The child of the kill loop: resumes the run if it has a checkpoint, else starts it; slow steps, a checkpoint every step. */
    public static final class KillChild {
        public static void main(String[] args) throws Exception {
            Path run = Path.of(args[0]);
            BatchSource fast = TinyWorld.source(ARCH, 5, 2);
            BatchSource slow = (step, micro) -> {
                try {
                    Thread.sleep(40);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return fast.batch(step, micro);
            };
            TrainerOptions options = TrainerOptions.quiet(1).withKeepCheckpoints(1);
            Trainer t = TrainingCheckpoint.list(run).isEmpty()
                    ? Trainer.start(TinyWorld.model(ARCH, 3), config(), slow, run, options)
                    : Trainer.resume(run, slow, options);
            t.run();
            System.out.println("DONE " + t.step());
        }
    }

    @Test
    void killNineAtRandomMomentsNeverLosesTheRunNorChangesItsBits() throws Exception {
        Trainer straight = reference(dir.resolve("straight"));
        String java = ProcessHandle.current().info().command().orElse("java");
        SplittableRandom random = new SplittableRandom(14);
        int kills = 0;
        int launches = 0;
        // Rounds of a fresh run each, killed until it completes, until at least 20 kills landed.
        for (int round = 0; kills < 20; round++) {
            Path run = dir.resolve("killed-" + round);
            boolean done = false;
            // On a loaded machine a JVM may need seconds to start: each kill that left no newer
            // checkpoint doubles the window, so the run always gets through.
            long stretch = 1;
            long newest = -1;
            while (!done) {
                launches++;
                assertTrue(launches < 300, "no progress after " + launches + " launches");
                Path log = dir.resolve("child-" + launches + ".log");
                Process child = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                        "-Xmx512m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                        KillChild.class.getName(), run.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
                // Anywhere from JVM start-up to several steps and saves in (each step saves).
                if (!child.waitFor(stretch * (300 + random.nextLong(2500)), TimeUnit.MILLISECONDS)) {
                    child.destroyForcibly(); // SIGKILL
                    assertTrue(child.waitFor(30, TimeUnit.SECONDS));
                    kills++;
                    List<Path> saved = TrainingCheckpoint.list(run);
                    long step = saved.isEmpty() ? -1 : TrainingCheckpoint.stepOf(saved.getLast());
                    stretch = step > newest ? 1 : Math.min(stretch * 2, 64);
                    newest = Math.max(newest, step);
                    continue;
                }
                assertEquals(0, child.exitValue(), Files.readString(log));
                done = Files.readString(log).contains("DONE " + TOTAL);
            }
            Trainer finished = Trainer.resume(run, TinyWorld.source(ARCH, 5, 2), TrainerOptions.quiet(0));
            assertEquals(TOTAL, finished.step());
            assertEquals(List.of(), TinyWorld.differing(TinyWorld.snapshot(straight.model()), TinyWorld.snapshot(finished.model())),
                    "round " + round);
            assertEquals(List.of(), TinyWorld.differing(TinyWorld.optimizerSnapshot(straight), TinyWorld.optimizerSnapshot(finished)),
                    "round " + round);
            assertEquals(-1L, Files.mismatch(dir.resolve("straight/model/model.safetensors"), run.resolve("model/model.safetensors")));
            assertTrue(Files.isSymbolicLink(run.resolve("model")), "model/ is switched by one rename");
        }
        System.out.println("kill -9 loop: " + kills + " kills in " + launches + " launches");
    }

    /** The child of the model-folder kill loop: replaces RUN/model by model A, then B, then A, ... until killed. */
    public static final class ModelSaver {
        public static void main(String[] args) throws Exception {
            Path target = Path.of(args[0]);
            List<Nvlm> models = List.of(TinyWorld.model(ARCH, 3), TinyWorld.model(ARCH, 4));
            Path log = Path.of(args[1]);
            for (long i = 0; ; i++) {
                Nvlm m = models.get((int) (i % 2));
                AtomicFolder.replace(target, folder -> Checkpoint.save(m, folder));
                if (i == 0) {
                    Files.writeString(log, "SAVING\n"); // started up: from here on it does nothing but save
                }
            }
        }
    }

    @Test
    void killNineDuringSavesOfTheModelFolderAlwaysLeavesAWholeOldOrNewModel() throws Exception {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        Checkpoint.save(TinyWorld.model(ARCH, 3), a);
        Checkpoint.save(TinyWorld.model(ARCH, 4), b);
        Path run = Files.createDirectories(dir.resolve("run"));
        Path target = run.resolve(Trainer.MODEL_DIR);
        AtomicFolder.replace(target, folder -> Checkpoint.save(TinyWorld.model(ARCH, 3), folder));
        String java = ProcessHandle.current().info().command().orElse("java");
        SplittableRandom random = new SplittableRandom(2);
        int midSave = 0;
        for (int kill = 0; kill < 20; kill++) {
            Path log = dir.resolve("saver-" + kill + ".log");
            Process child = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                    "-Xmx512m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                    ModelSaver.class.getName(), target.toString(), log.toString()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("saver-" + kill + ".out").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (!Files.exists(log) && child.isAlive()) {
                assertTrue(System.nanoTime() < deadline, "the saver did not start in 180 s");
                Thread.sleep(10);
            }
            assertTrue(child.isAlive(), Files.readString(dir.resolve("saver-" + kill + ".out")));
            Thread.sleep(random.nextLong(300));
            child.destroyForcibly(); // SIGKILL, anywhere in a save: writing, forcing, linking, renaming, deleting
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            List<String> versions;
            try (Stream<Path> list = Files.list(run)) {
                versions = list.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".model")).toList();
            }
            if (versions.size() > 1) {
                midSave++; // a new version (or the old one) was still there: the kill landed inside a save
            }
            // whatever the moment, model/ is one whole model: A's files or B's, and it loads
            Path weights = target.resolve("model.safetensors");
            assertTrue(Files.mismatch(weights, a.resolve("model.safetensors")) == -1L
                    || Files.mismatch(weights, b.resolve("model.safetensors")) == -1L, "kill " + kill + ": " + versions);
            assertEquals(-1L, Files.mismatch(target.resolve(Checkpoint.CONFIG), a.resolve(Checkpoint.CONFIG)));
            ModelFolder.open(target).load(nvlm.tensor.Device.CPU);
        }
        System.out.println("model folder kill loop: 20 kills, " + midSave + " inside a save");
        assertTrue(midSave > 0, "no kill landed inside a save");
        // the next save cleans up what the killed ones left
        AtomicFolder.replace(target, folder -> Checkpoint.save(TinyWorld.model(ARCH, 4), folder));
        try (Stream<Path> list = Files.list(run)) {
            assertEquals(2, list.count(), "model/ and the one version it links to");
        }
    }

    /** Holds a run folder's lock until its stdin closes. */
    public static final class LockHolder {
        public static void main(String[] args) throws Exception {
            RunLock.acquire(Path.of(args[0]));
            System.out.println("LOCKED");
            System.out.flush();
            System.in.read();
        }
    }

    @Test
    void aSecondProcessCannotResumeARunFolderInUse() throws Exception {
        Path run = dir.resolve("run"); // never opened by this JVM: the child holds it
        String java = ProcessHandle.current().info().command().orElse("java");
        Process holder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), LockHolder.class.getName(),
                run.toString()).redirectErrorStream(true).start();
        try {
            byte[] line = new byte[7];
            assertEquals(7, holder.getInputStream().readNBytes(line, 0, 7));
            assertEquals("LOCKED\n", new String(line));
            IllegalStateException busy = assertThrows(IllegalStateException.class,
                    () -> Trainer.resume(run, TinyWorld.source(ARCH, 5, 2), TrainerOptions.quiet(2)));
            assertTrue(busy.getMessage().contains(run + " is in use by another nvlm process (pid " + holder.pid() + ")"),
                    busy.getMessage());
        } finally {
            holder.getOutputStream().close();
            assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
        }
        // the lock goes with the process: the folder can be trained in now
        trainUntil(run, 2, 2, 2);
        assertEquals(List.of(TrainingCheckpoint.folder(run, 2)), TrainingCheckpoint.list(run));
    }
}
