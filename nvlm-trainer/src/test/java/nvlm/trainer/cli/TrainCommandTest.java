package nvlm.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.trainer.data.Family;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.WorldConfig;
import nvlm.trainer.data.WorldPreview;
import nvlm.trainer.pipeline.DataSpec;
import nvlm.trainer.train.MetricsLog;
import nvlm.trainer.train.TinyWorld;
import nvlm.trainer.train.TrainingCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
    @TempDir
    Path dir;

    static CommandLineRun train(String... words) {
        String[] all = new String[words.length + 1];
        all[0] = "train";
        System.arraycopy(words, 0, all, 1, words.length);
        return CommandLineRun.of(all);
    }

    @Test
    void trainsAStageFromBatchFilesAndResumesAFinishedRunIdempotently() throws Exception {
        Path model = dir.resolve("model");
        Checkpoint.save(TinyWorld.model(Architecture.X, 1), model);
        Path batches = Files.createDirectories(dir.resolve("batches"));
        for (int i = 0; i < 3; i++) {
            TinyWorld.source(Architecture.X, 4, 2).batch(i + 1, 0).write(batches.resolve("b" + i + ".safetensors"));
        }
        Path out = dir.resolve("run");
        String printed = train("--model", model.toString(), "--stage", "1", "--batches", batches.toString(), "--out", out.toString(),
                "--steps", "4", "--accumulation", "2", "--checkpoint-every", "2", "--progress", "off").expect(0).out();
        assertTrue(printed.contains("model: " + out.resolve("model")), printed);
        assertEquals(4, MetricsLog.read(out.resolve(MetricsLog.FILE)).size());
        assertEquals(List.of(TrainingCheckpoint.folder(out, 2), TrainingCheckpoint.folder(out, 4)), TrainingCheckpoint.list(out));
        byte[] trained = Files.readAllBytes(out.resolve("model/model.safetensors"));

        train("--resume", out.toString(), "--batches", batches.toString(), "--progress", "off").expect(0);
        assertTrue(Files.mismatch(out.resolve("model/model.safetensors"), model.resolve("model.safetensors")) != -1L,
                "training changed the model");
        assertTrue(Arrays.equals(trained, Files.readAllBytes(out.resolve("model/model.safetensors"))),
                "resuming a finished run changes nothing");
    }

    @Test
    void aBatchFileThatIsNotABatchStopsTheRunBeforeItsFolderNamingTheFile() throws Exception {
        Path model = dir.resolve("model");
        Checkpoint.save(TinyWorld.model(Architecture.D, 1), model);
        Path batches = Files.createDirectories(dir.resolve("batches"));
        TinyWorld.source(Architecture.D, 4, 2).batch(1, 0).write(batches.resolve("b0.safetensors"));
        Files.write(batches.resolve("b1.safetensors"), new byte[] {2, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        Path out = dir.resolve("run");
        String err = train("--model", model.toString(), "--stage", "1", "--batches", batches.toString(), "--out", out.toString(),
                "--steps", "1", "--progress", "off").expect(Main.FAILURE).err();
        assertTrue(err.contains(batches.resolve("b1.safetensors") + ": batch file has no tensor 'input_ids'"), err);
        assertTrue(!Files.exists(out), "no run folder");
    }

    @Test
    void resumingWithChangedDataIsRefusedUnlessAnywayWhichIsRecorded() throws Exception {
        Path model = dir.resolve("model");
        Checkpoint.save(TinyWorld.model(Architecture.D, 1), model);
        Path batches = Files.createDirectories(dir.resolve("batches"));
        for (int i = 0; i < 2; i++) {
            TinyWorld.source(Architecture.D, 4, 2).batch(i + 1, 0).write(batches.resolve("b" + i + ".safetensors"));
        }
        Path out = dir.resolve("run");
        train("--model", model.toString(), "--stage", "1", "--batches", batches.toString(), "--out", out.toString(),
                "--steps", "2", "--checkpoint-every", "1", "--progress", "off").expect(0);
        assertTrue(Files.readString(out.resolve("run.json")).contains("\"threads\""));
        // the same data: resumes
        train("--resume", out.toString(), "--batches", batches.toString(), "--progress", "off").expect(0);
        // one batch file replaced by another
        TinyWorld.source(Architecture.D, 9, 2).batch(1, 0).write(batches.resolve("b0.safetensors"));
        String err = train("--resume", out.toString(), "--batches", batches.toString(), "--progress", "off")
                .expect(Main.USAGE_ERROR).err();
        assertTrue(err.contains("the run started with other data or settings (batch_files: ") && err.contains("--resume-anyway"), err);
        String anyway = train("--resume", out.toString(), "--batches", batches.toString(), "--resume-anyway", "--progress", "off")
                .expect(0).err();
        assertTrue(anyway.contains("resuming anyway despite: batch_files"), anyway);
        assertTrue(Files.readString(out.resolve("run.json")).contains("\"resumed_anyway\""));
        // recorded: the next resume with this data goes through
        train("--resume", out.toString(), "--batches", batches.toString(), "--progress", "off").expect(0);
        assertUsage("--resume-anyway applies to --resume RUN only", "--arch", "d", "--stage", "1", "--out", "o", "--resume-anyway");
    }

    @Test
    void badLlavaRecordsStopTheRunBeforeItsFolderUnlessSkippedWhichNamesEachAndResumeChecksTheImages() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        WorldPreview.write(new SyntheticWorld(WorldConfig.defaults(112)).example(Split.TRAIN, Family.SPATIAL, 0).images().getFirst(),
                images.resolve("a.png"));
        String good = "{\"image\": \"a.png\", \"conversations\": [{\"from\": \"human\", \"value\": \"<image>\\nWhat?\"},"
                + " {\"from\": \"gpt\", \"value\": \"shapes\"}]}";
        Path llava = Files.writeString(dir.resolve("data.jsonl"), String.join("\n", good, good.replace("a.png", "gone.png"), good,
                "{\"conversations\": 3}", good.replace("a.png", "../a.png")) + "\n");
        Path out = dir.resolve("run");
        List<String> command = List.of("--arch", "d", "--stage", "1", "--no-backbones", "--steps", "1", "--batch", "2",
                "--llava", llava.toString(), "--images", images.toString(), "--out", out.toString(), "--progress", "off");

        String strict = train(command.toArray(String[]::new)).expect(Main.FAILURE).err();
        assertTrue(strict.contains(llava + ": line 2 (record 1): missing image file 'gone.png'"), strict);
        assertTrue(!Files.exists(out), "no run folder for data that cannot be used");
        String capped = train(concat(command, "--skip-bad-records", "--max-bad-records", "2")).expect(Main.FAILURE).err();
        assertTrue(capped.contains(llava + ": more than 2 bad records") && capped.contains("line 5 (record 4): image path '../a.png'"
                + " leads out of the image folder"), capped);
        assertTrue(!Files.exists(out));

        String skipped = train(concat(command, "--skip-bad-records")).expect(0).err();
        assertTrue(skipped.contains("skipped 3 bad records of " + llava + " (--skip-bad-records), training on the other 2; all are"
                + " listed in " + out.resolve(TrainCommand.SKIPPED_FILE)), skipped);
        assertTrue(skipped.contains("  " + llava + ": line 4 (record 3): \"conversations\" must be an array"), skipped);
        List<String> listed = Files.readAllLines(out.resolve(TrainCommand.SKIPPED_FILE));
        assertEquals(3, listed.size(), listed.toString());
        assertTrue(listed.get(0).startsWith(llava + ": line 2 (record 1)") && listed.get(2).startsWith(llava + ": line 5 (record 4)"),
                listed.toString());
        assertTrue(Files.readString(out.resolve(DataSpec.FILE)).contains("\"skip_bad_records\": 100"));

        // resume reads the data as the run did (skipping the same records), and checks the images' contents
        assertTrue(train("--resume", out.toString(), "--progress", "off").expect(0).err().contains("skipped 3 bad records"));
        byte[] png = Files.readAllBytes(images.resolve("a.png"));
        png[png.length / 2] ^= 1;
        Files.write(images.resolve("a.png"), png);
        String changed = train("--resume", out.toString(), "--progress", "off").expect(Main.USAGE_ERROR).err();
        assertTrue(changed.contains("llava_images: ") && changed.contains("(changed: a.png)") && changed.contains("--resume-anyway"),
                changed);
        assertUsage("--skip-bad-records needs --llava FILE", "--arch", "d", "--stage", "1", "--out", "o", "--skip-bad-records");
        assertUsage("--max-bad-records applies with --skip-bad-records only", concat(command, "--max-bad-records", "3"));
        assertUsage("--skip-bad-records cannot be given with --resume", "--resume", out.toString(), "--skip-bad-records");
    }

    @Test
    void parseSpecialTokensIsRecordedInTheRunAndAResumeWithoutItIsRefused() throws Exception {
        Path llava = Files.writeString(dir.resolve("typed.jsonl"), "{\"conversations\": [{\"from\": \"human\", \"value\":"
                + " \"stop<|im_end|>\"}, {\"from\": \"gpt\", \"value\": \"ok\"}]}\n");
        Path out = dir.resolve("run");
        train("--arch", "d", "--stage", "1", "--no-backbones", "--steps", "1", "--batch", "1", "--llava", llava.toString(),
                "--parse-special-tokens", "--out", out.toString(), "--progress", "off").expect(0);
        assertTrue(Files.readString(out.resolve(DataSpec.FILE)).contains("\"parse_special_tokens\": true"));
        assertTrue(DataSpec.read(out).parseSpecialTokens());
        assertTrue(Files.readString(out.resolve("run.json")).contains("\"parse_special_tokens\": true"));
        // the run's data spec edited to read the records as plain text: other data, refused
        Files.writeString(out.resolve(DataSpec.FILE), Files.readString(out.resolve(DataSpec.FILE))
                .replace("\"parse_special_tokens\": true,", ""));
        assertTrue(!DataSpec.read(out).parseSpecialTokens());
        String refused = train("--resume", out.toString(), "--progress", "off").expect(Main.USAGE_ERROR).err();
        assertTrue(refused.contains("the run started with other data or settings (data: ") && refused.contains("parse_special_tokens"),
                refused);
        assertUsage("--parse-special-tokens needs --llava FILE", "--arch", "d", "--stage", "1", "--out", "o", "--parse-special-tokens");
        assertUsage("--parse-special-tokens cannot be given with --resume", "--resume", out.toString(), "--parse-special-tokens");
    }

    private static String[] concat(List<String> words, String... more) {
        List<String> all = new java.util.ArrayList<>(words);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    @Test
    void taggedMemoryIsSavedInTheModelsConfigAndKeptByStageTwo() throws Exception {
        assertSavedThroughStageTwo("--tagged-memory", NvlmConfig::taggedMemory);
        assertRefusedOutsideItsArchitectures("--tagged-memory", "--tagged-memory applies to --arch x and h", "d");
    }

    @Test
    void tagsInSequenceAreSavedForHAndRefusedForDAndX() throws Exception {
        assertSavedThroughStageTwo("--tags-in-sequence", c -> c.tagsInSequence() && !c.taggedMemory());
        assertRefusedOutsideItsArchitectures("--tags-in-sequence", "--tags-in-sequence applies to --arch h", "d", "x");
    }

    /** An NVLM-H model option: in stage 1's config.json, and kept by a stage 2 started --from it. */
    private void assertSavedThroughStageTwo(String option, java.util.function.Predicate<NvlmConfig> has) throws Exception {
        Path first = dir.resolve("h" + option);
        train("--arch", "h", option, "--stage", "1", "--no-backbones", "--steps", "1", "--batch", "2", "--out", first.toString(),
                "--progress", "off").expect(0);
        NvlmConfig saved = NvlmConfig.read(first.resolve("model").resolve("config.json"));
        assertTrue(has.test(saved) && saved.architecture() == Architecture.H, saved.toString());
        Path second = dir.resolve("h" + option + "-2");
        train("--from", first.resolve("model").toString(), "--stage", "2", "--steps", "1", "--batch", "2", "--out", second.toString(),
                "--progress", "off").expect(0);
        assertTrue(has.test(NvlmConfig.read(second.resolve("model").resolve("config.json"))));
    }

    /** The option is a usage error (and leaves no run folder) for these architectures and with --from. */
    private void assertRefusedOutsideItsArchitectures(String option, String message, String... archs) {
        for (String arch : archs) {
            Path out = dir.resolve(arch + option);
            assertUsage(message, "--arch", arch, option, "--stage", "1", "--no-backbones", "--out", out.toString());
            assertTrue(!Files.exists(out), "no run folder for a refused model");
        }
        assertUsage(option + " does not apply when starting from a model folder", "--from", dir.resolve("h" + option).resolve("model")
                .toString(), option, "--stage", "2", "--out", dir.resolve("from" + option).toString());
    }

    @Test
    void optionsThatContradictEachOtherAreUsageErrorsNamingThem() {
        assertUsage("give --arch d|x|h", "--stage", "1", "--out", "o");
        assertUsage("--batches needs --model", "--batches", "b", "--stage", "1", "--out", "o");
        assertUsage("--llava does not apply to batch files", "--model", "m", "--batches", "b", "--stage", "1", "--out", "o",
                "--llava", "l.json");
        assertUsage("pretrain-backbones", "--arch", "d", "--stage", "0", "--out", "o");
        assertUsage("--stage 1|2 is required", "--arch", "d", "--out", "o");
        assertUsage("--out is required", "--arch", "d", "--stage", "1");
        assertUsage("--text-ratio applies to stage 2", "--arch", "d", "--stage", "1", "--out", dir.resolve("t").toString(),
                "--text-ratio", "0.3", "--no-backbones");
        assertUsage("--lr cannot be given with --resume", "--resume", "r", "--batches", "b", "--lr", "1");
        assertUsage("--out cannot be given with --resume", "--resume", "r", "--out", "o");
        assertUsage("--backbones contradicts --no-backbones", "--arch", "d", "--stage", "1", "--out", "o", "--no-backbones",
                "--backbones", "b");
        assertUsage("--preset does not apply when starting from a model folder", "--from", "m", "--preset", "small", "--stage", "2",
                "--out", "o");
        assertUsage("stage config: warmup_steps must be in [0, total_steps 2]", "--arch", "h", "--stage", "1", "--no-backbones",
                "--steps", "2", "--warmup", "5", "--out", dir.resolve("w").toString());
        // Refused before mpirun starts any rank.
        assertUsage("--nproc 2 needs --accumulation K, a multiple of 2", "--arch", "d", "--stage", "1", "--out", "o",
                "--nproc", "2");
        assertUsage("--nproc 2 needs --accumulation K, a multiple of 2", "--arch", "d", "--stage", "1", "--out", "o",
                "--nproc", "2", "--accumulation", "3");
        assertUsage("--zero shards the optimizer", "--arch", "d", "--stage", "1", "--out", "o", "--zero");
        assertUsage("--tp 2 must divide --nproc 3", "--arch", "d", "--stage", "1", "--out", "o", "--nproc", "3", "--tp", "2",
                "--accumulation", "3");
        assertUsage("--tp 2 splits each model copy over 2 ranks: it needs --nproc 2", "--arch", "d", "--stage", "1", "--out",
                "o", "--tp", "2");
        assertUsage("--nproc 4 with --tp 2 (2 data-parallel replicas) needs --accumulation K, a multiple of 2", "--arch", "d",
                "--stage", "1", "--out", "o", "--nproc", "4", "--tp", "2", "--accumulation", "3");
        assertUsage("--bucket-mb must be a positive number of MiB holding at least one F32 gradient (4 bytes), got 0.0",
                "--arch", "d", "--stage", "1", "--out", "o", "--nproc", "2", "--accumulation", "2", "--bucket-mb", "0");
        assertUsage("--bucket-mb must be a positive number", "--arch", "d", "--stage", "1", "--out", "o", "--bucket-mb", "NaN");
    }

    private static void assertUsage(String message, String... words) {
        String err = train(words).expect(Main.USAGE_ERROR).err();
        assertTrue(err.startsWith("nvlm train: ") && err.contains(message), err);
    }
}
