package nvlm.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.Architecture;
import nvlm.trainer.train.MetricsLog;
import nvlm.trainer.train.TinyWorld;
import nvlm.trainer.train.TrainingCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
    @TempDir
    Path dir;

    private static String run(TrainCommand command, ByteArrayOutputStream bytes, String... words) throws Exception {
        bytes.reset();
        int status = command.run(List.of(words));
        assertEquals(0, status, bytes.toString(StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void trainsAStageFromBatchFilesAndResumesAFinishedRunIdempotently() throws Exception {
        Path model = dir.resolve("model");
        Checkpoint.save(TinyWorld.model(Architecture.X, 1), model);
        Path batches = Files.createDirectories(dir.resolve("batches"));
        for (int i = 0; i < 3; i++) {
            TinyWorld.source(Architecture.X, 4, 2).batch(i + 1, 0).write(batches.resolve("b" + i + ".safetensors"));
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TrainCommand command = new TrainCommand(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        Path out = dir.resolve("run");
        String printed = run(command, bytes, "--model", model.toString(), "--stage", "1", "--batches", batches.toString(),
                "--out", out.toString(), "--steps", "4", "--accumulation", "2", "--checkpoint-every", "2", "--progress", "off");
        assertTrue(printed.contains("model: " + out.resolve("model")), printed);
        assertEquals(4, MetricsLog.read(out.resolve(MetricsLog.FILE)).size());
        assertEquals(List.of(TrainingCheckpoint.folder(out, 2), TrainingCheckpoint.folder(out, 4)), TrainingCheckpoint.list(out));
        byte[] trained = Files.readAllBytes(out.resolve("model/model.safetensors"));

        run(command, bytes, "--resume", out.toString(), "--batches", batches.toString(), "--progress", "off");
        assertTrue(Files.mismatch(out.resolve("model/model.safetensors"), model.resolve("model.safetensors")) != -1L,
                "training changed the model");
        assertTrue(java.util.Arrays.equals(trained, Files.readAllBytes(out.resolve("model/model.safetensors"))),
                "resuming a finished run changes nothing");
    }

    @Test
    void helpExplainsEveryFlagAndMistakesAreUsageErrors() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TrainCommand command = new TrainCommand(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String help = run(command, bytes, "--help");
        for (String flag : List.of("arch", "preset", "backbones", "vision-from", "llm-from", "no-backbones", "from", "model", "stage",
                "world-seed", "questions", "llava", "images", "text-ratio", "low-res", "batches", "recipe", "steps", "warmup", "lr",
                "min-lr", "beta1", "beta2", "eps", "weight-decay", "clip", "batch", "accumulation", "seed", "out", "resume",
                "eval-every", "eval-samples", "checkpoint-every", "keep", "device", "progress", "help")) {
            assertTrue(help.contains("--" + flag + " "), "--help explains --" + flag);
        }
        UsageException missing = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class,
                () -> command.run(List.of("--stage", "1", "--out", "o")));
        assertTrue(missing.getMessage().contains("give --arch d|x|h"), missing.getMessage());
        UsageException noModel = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class,
                () -> command.run(List.of("--batches", "b", "--stage", "1", "--out", "o")));
        assertTrue(noModel.getMessage().contains("--batches needs --model"), noModel.getMessage());
        UsageException stage0 = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class,
                () -> command.run(List.of("--arch", "d", "--stage", "0", "--out", "o")));
        assertTrue(stage0.getMessage().contains("pretrain-backbones"), stage0.getMessage());
        UsageException stage1Text = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class,
                () -> command.run(List.of("--arch", "d", "--stage", "1", "--out", dir.resolve("t").toString(), "--text-ratio", "0.3",
                        "--no-backbones")));
        assertTrue(stage1Text.getMessage().contains("--text-ratio applies to stage 2"), stage1Text.getMessage());
        UsageException locked = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class,
                () -> command.run(List.of("--resume", "r", "--batches", "b", "--lr", "1")));
        assertTrue(locked.getMessage().contains("--lr cannot be given with --resume"), locked.getMessage());
        assertEquals(0, Main.run(List.of("train", "--help")), "the command is registered with ./nvlm");
        assertEquals(2, Main.run(List.of("train", "--stage")), "a flag without its value is a usage error");
    }
}
