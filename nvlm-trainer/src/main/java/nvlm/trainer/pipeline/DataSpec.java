package nvlm.trainer.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nvlm.model.config.NvlmConfig;
import nvlm.model.tiling.TagMode;
import nvlm.tensor.io.DurableFiles;
import nvlm.tensor.io.Json;
import nvlm.tensor.io.JsonFile;
import nvlm.trainer.data.ExampleSource;
import nvlm.trainer.data.InterleavedSource;
import nvlm.trainer.data.LlavaDataset;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.TaskBlend;
import nvlm.trainer.data.WorldConfig;
import nvlm.trainer.data.WorldDataset;
import nvlm.trainer.recipe.Stage;
import nvlm.trainer.recipe.StageConfig;

/**
 * What a training run reads, kept in the run folder ({@value #FILE}) so that {@code --resume}
 * rebuilds exactly the same batches: the synthetic world (its seed, questions per picture) or a
 * LLaVA-format file with its image folder (stage 2 mixes the world's text-only tasks into it), and
 * how images are tiled.
 *
 * @param llavaFile     LLaVA JSON / JSONL, or null for the synthetic world
 * @param imageFolder   where the LLaVA file's image paths point (null: the file's folder)
 * @param worldSeed     the world's seed (its splits); also the text-only tasks' world for LLaVA data
 * @param questions     questions per world picture (1: one example per question, as evaluated)
 * @param lowResolution one S x S tile per image instead of dynamic high resolution (docs/model.md §1, the paper's baseline)
 * @param allowOutsideImages LLaVA image paths may lead out of the image folder (absolute, ../, links)
 * @param maxBadRecords LLaVA records that cannot be used are skipped, up to this many ({@code --skip-bad-records});
 *                      0: the first one stops the run
 * @param parseSpecialTokens special-token text in the LLaVA records becomes those tokens ({@code --parse-special-tokens});
 *                      false: it is plain text
 */
public record DataSpec(Path llavaFile, Path imageFolder, long worldSeed, int questions, boolean lowResolution,
                       boolean allowOutsideImages, int maxBadRecords, boolean parseSpecialTokens) {
    public static final String FILE = "data.json";

    public DataSpec(Path llavaFile, Path imageFolder, long worldSeed, int questions, boolean lowResolution) {
        this(llavaFile, imageFolder, worldSeed, questions, lowResolution, false, 0, false);
    }

    public DataSpec {
        if (questions < 1) {
            throw new IllegalArgumentException("questions per picture must be >= 1, got " + questions);
        }
        if (maxBadRecords < 0) {
            throw new IllegalArgumentException("the most bad records to skip must be >= 0, got " + maxBadRecords);
        }
    }

    public static DataSpec world(long seed, int questions) {
        return new DataSpec(null, null, seed, questions, false);
    }

    public boolean isWorld() {
        return llavaFile == null;
    }

    public DataSpec withLowResolution(boolean low) {
        return new DataSpec(llavaFile, imageFolder, worldSeed, questions, low, allowOutsideImages, maxBadRecords, parseSpecialTokens);
    }

    /** The LLaVA file, checked record by record (and skipping bad records as this spec says); only for LLaVA data. */
    public LlavaDataset openLlava() throws IOException {
        if (isWorld()) {
            throw new IllegalStateException("a world data spec has no LLaVA file");
        }
        return LlavaDataset.open(llavaFile, imageFolder != null ? imageFolder : llavaFile.toAbsolutePath().getParent(),
                new nvlm.model.tiling.ImageLoader(), allowOutsideImages, maxBadRecords, parseSpecialTokens);
    }

    /** How samples are encoded for a model under this spec. */
    public SampleEncoder encoder(NvlmConfig model) {
        return WorldStage.encoder(model, SampleEncoder.Options.defaults().withLowResolution(lowResolution));
    }

    /** The training examples of a stage: {@code steps x rows per step} of them. */
    public ExampleSource source(StageConfig config, NvlmConfig model) throws IOException {
        return source(config, model, isWorld() ? null : openLlava());
    }

    /** {@link #source(StageConfig, NvlmConfig)} over {@code user}, this spec's LLaVA file already opened (null for the world). */
    public ExampleSource source(StageConfig config, NvlmConfig model, LlavaDataset user) throws IOException {
        SyntheticWorld world = new SyntheticWorld(WorldConfig.forModel(model, worldSeed));
        TagMode tagMode = TagMode.parse(model.tiling().tagMode());
        int rows = Math.multiplyExact(config.totalSteps(), config.globalBatchSize());
        if (isWorld()) {
            return new WorldDataset(world, Split.TRAIN, WorldStage.blend(config), rows, tagMode, questions);
        }
        double text = config.stage() == Stage.SFT ? config.textOnlyRatio() : 0;
        if (text >= 1) {
            throw new IllegalArgumentException("text-only ratio " + text + " leaves no room for the LLaVA data");
        }
        ExampleSource textOnly = new WorldDataset(world, Split.TRAIN, TaskBlend.textOnly(), Math.max(1, rows), tagMode);
        return text > 0 ? InterleavedSource.withTextOnly(user, textOnly, text, rows, config.seed())
                : new InterleavedSource(List.of(user), new double[] {1}, rows, config.seed());
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", isWorld() ? "world" : "llava");
        if (!isWorld()) {
            m.put("llava_file", llavaFile.toAbsolutePath().toString());
            m.put("image_folder", imageFolder == null ? null : imageFolder.toAbsolutePath().toString());
            if (allowOutsideImages) {
                m.put("allow_outside_images", true);
            }
            if (maxBadRecords > 0) {
                m.put("skip_bad_records", (long) maxBadRecords);
            }
            if (parseSpecialTokens) {
                m.put("parse_special_tokens", true);
            }
        }
        m.put("world_seed", worldSeed);
        m.put("questions", (long) questions);
        m.put("low_resolution", lowResolution);
        return m;
    }

    public static DataSpec fromJson(Map<String, Object> m, String source) {
        try {
            boolean world = "world".equals(m.get("kind"));
            Path file = world ? null : Path.of((String) m.get("llava_file"));
            Path images = world || m.get("image_folder") == null ? null : Path.of((String) m.get("image_folder"));
            return new DataSpec(file, images, (Long) m.get("world_seed"), Math.toIntExact((Long) m.get("questions")),
                    (Boolean) m.get("low_resolution"), Boolean.TRUE.equals(m.get("allow_outside_images")),
                    m.get("skip_bad_records") == null ? 0 : Math.toIntExact((Long) m.get("skip_bad_records")),
                    Boolean.TRUE.equals(m.get("parse_special_tokens")));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(source + ": not a data spec (" + e + ")", e);
        }
    }

    public void write(Path runDir) throws IOException {
        Files.createDirectories(runDir);
        DurableFiles.writeString(runDir.resolve(FILE), Json.writePretty(toJson()) + "\n");
    }

    public static DataSpec read(Path runDir) throws IOException {
        Path file = runDir.resolve(FILE);
        if (!Files.exists(file)) {
            throw new IOException(runDir + " has no " + FILE + " (was it made by ./nvlm train with world or LLaVA data?)");
        }
        return fromJson(JsonFile.readObject(file), file.toString());
    }
}
