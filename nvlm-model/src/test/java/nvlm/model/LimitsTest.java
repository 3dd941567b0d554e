package nvlm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import nvlm.model.config.Architecture;
import nvlm.model.config.LlmConfig;
import nvlm.model.config.ModelSize;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Limits decided from the config before anything is allocated: model size, context length, tiles. */
class LimitsTest {
    @TempDir
    Path dir;

    @Test
    void theSizeEstimateIsWithinTwoPerCentOfTheModelsParameters() {
        for (String preset : List.of("tiny", "small")) {
            for (Architecture arch : Architecture.values()) {
                NvlmConfig config = Presets.get(preset, arch);
                long actual = Nvlm.create(config, new SplittableRandom(0)).parameters().stream().mapToLong(p -> p.value().numel()).sum();
                double estimate = ModelSize.parameters(config);
                assertEquals(1.0, estimate / actual, 0.02, preset + " " + arch + ": estimate " + estimate + ", actual " + actual);
            }
        }
    }

    @Test
    void aConfigTooLargeForMemoryIsRefusedBeforeAllocatingNamingTheFields() throws Exception {
        NvlmConfig huge = Presets.get("tiny", Architecture.D).withVocabSize(Integer.MAX_VALUE);
        var e = assertThrows(IllegalArgumentException.class, () -> Nvlm.create(huge, new SplittableRandom(0)));
        assertTrue(e.getMessage().contains("llm.vocab_size 2147483647"), e.getMessage());
        assertTrue(e.getMessage().contains("more than the"), e.getMessage());
        // the real 72B preset is 300+ GB in F32: refused unless the machine has it
        assertTrue(ModelSize.bytes(Presets.get("nvlm-d-72b", Architecture.D)) > 300e9);

        System.setProperty("nvlm.maxMemory", "1m");
        try {
            var small = assertThrows(IllegalArgumentException.class,
                    () -> Nvlm.create(Presets.get("tiny", Architecture.D), new SplittableRandom(0)));
            assertTrue(small.getMessage().contains("more than the 1.0 MiB this process may use (NVLM_MAX_MEMORY"), small.getMessage());
            System.setProperty("nvlm.maxMemory", "lots");
            var bad = assertThrows(IllegalArgumentException.class, ModelSize::limit);
            assertEquals("NVLM_MAX_MEMORY must be a size such as 512m, 12g or 1073741824 bytes, got 'lots'", bad.getMessage());
        } finally {
            System.clearProperty("nvlm.maxMemory");
        }
    }

    @Test
    void contextLengthIsReadWrittenAndEnforcedForBatchesAndGeneration() throws Exception {
        NvlmConfig tiny = Presets.get("tiny", Architecture.D);
        assertEquals(LlmConfig.DEFAULT_MAX_POSITIONS, tiny.llm().maxPositionEmbeddings());
        assertTrue(tiny.toJson().contains("\"max_position_embeddings\": 32768"), tiny.toJson());
        Path file = dir.resolve("config.json");
        Files.writeString(file, tiny.toJson().replace("\"max_position_embeddings\": 32768", "\"max_position_embeddings\": 40"));
        NvlmConfig short40 = NvlmConfig.read(file);
        assertEquals(40, short40.llm().maxPositionEmbeddings());

        Nvlm model = Nvlm.create(short40, new SplittableRandom(1));
        Batch text = Fixtures.batch(short40, List.of(Fixtures.sample(short40, null, "q".repeat(60), "a")));
        var e = assertThrows(IllegalArgumentException.class, () -> model.forward(text));
        assertTrue(e.getMessage().startsWith("a sequence of the batch needs " + text.length() + " positions, more than the model's"
                + " context length of 40 (llm.max_position_embeddings in its config.json)"), e.getMessage());

        Batch prompt = Fixtures.batch(short40, List.of(Fixtures.sample(short40, null, "hi", "")));
        var g = assertThrows(IllegalArgumentException.class,
                () -> new Generator(model).generate(prompt, Generator.Settings.greedy(Integer.MAX_VALUE), t -> { }));
        assertTrue(g.getMessage().contains("up to 2147483647 new ones needs " + (prompt.length() + Integer.MAX_VALUE) + " positions"),
                g.getMessage());

        Files.writeString(file, tiny.toJson().replace("\"max_position_embeddings\": 32768", "\"max_position_embeddings\": 0"));
        var zero = assertThrows(IllegalArgumentException.class, () -> NvlmConfig.read(file));
        assertTrue(zero.getMessage().startsWith(file + ": field 'llm.max_position_embeddings' must be positive"), zero.getMessage());
    }

    @Test
    void tileCountsOutsideOneTo128AreRefusedNamingTheFile() throws Exception {
        NvlmConfig tiny = Presets.get("tiny", Architecture.D);
        Path file = dir.resolve("config.json");
        for (String bad : List.of("\"max_tiles\": 2000000000", "\"max_tiles\": 0")) {
            Files.writeString(file, tiny.toJson().replace("\"max_tiles\": 6", bad));
            var e = assertThrows(IllegalArgumentException.class, () -> NvlmConfig.read(file));
            assertTrue(e.getMessage().startsWith(file + ": tiling needs 1 <= min_tiles <= max_tiles <= 128"), e.getMessage());
        }
        Files.writeString(file, tiny.toJson().replace("\"hidden_size\": 128", "\"hidden_size\": 130"));
        var e = assertThrows(IllegalArgumentException.class, () -> NvlmConfig.read(file));
        assertTrue(e.getMessage().startsWith(file + ": llm.hidden_size 130 is not a multiple of llm.num_heads 4"), e.getMessage());
        Files.write(file, new byte[] {'{', '"', (byte) 0xC3, '"', '}'});
        var utf = assertThrows(java.io.IOException.class, () -> NvlmConfig.read(file));
        assertEquals(file + ": not valid UTF-8 at byte 2 (0xc3)", utf.getMessage());
    }
}
