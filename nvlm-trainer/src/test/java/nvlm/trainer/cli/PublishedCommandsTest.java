package nvlm.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import nvlm.kernels.DType;
import nvlm.model.checkpoint.RandomPublishedFolder;
import nvlm.tensor.io.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** inspect, init --like, generate and chat (one question and interactive) on folders in the published layouts. */
class PublishedCommandsTest {
    static final Path PUBLISHED = Path.of("..", "nvlm-model", "src", "test", "resources", "published");
    @TempDir
    static Path tmp;
    static Path small;
    static Path model;
    static Path picture;
    static Path qwen2;

    @SuppressWarnings("unchecked")
    static void shrink(Map<String, Object> root) {
        Map<String, Object> v = (Map<String, Object>) root.get("vision_config");
        v.put("hidden_size", 64L);
        v.put("num_attention_heads", 4L);
        v.put("num_hidden_layers", 1L);
        v.put("intermediate_size", 96L);
        Map<String, Object> l = (Map<String, Object>) root.get("llm_config");
        l.put("hidden_size", 64L);
        l.put("num_attention_heads", 4L);
        l.put("num_key_value_heads", 2L);
        l.put("num_hidden_layers", 2L);
        l.put("intermediate_size", 128L);
        root.put("max_dynamic_patch", 2L);
    }

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void folders() throws Exception {
        // The published small files with a shrunk config: what init --like reads.
        small = tmp.resolve("small-files");
        Files.createDirectories(small);
        for (String f : List.of("vocab.json", "merges.txt", "added_tokens.json", "tokenizer_config.json", "preprocessor_config.json")) {
            Files.copy(PUBLISHED.resolve("internvl2-1b").resolve(f), small.resolve(f));
        }
        Map<String, Object> config = Json.parseObject(Files.readString(PUBLISHED.resolve("internvl2-1b/config.json")));
        shrink(config);
        Files.writeString(small.resolve("config.json"), Json.write(config));
        model = tmp.resolve("model");
        RandomPublishedFolder.write(model, small, c -> {
        }, DType.BF16, 3, Long.MAX_VALUE);
        // A bare Qwen2ForCausalLM folder: InternVL2-1B's llm_config (Qwen2-0.5B-Instruct's config) as config.json.
        qwen2 = tmp.resolve("qwen2");
        RandomPublishedFolder.write(qwen2, small, c -> {
            Map<String, Object> llm = (Map<String, Object>) c.get("llm_config");
            c.clear();
            c.putAll(llm); // already shrunk by shrink() above
        }, DType.BF16, 4, Long.MAX_VALUE);
        picture = tmp.resolve("picture.png");
        javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(448, 448, java.awt.image.BufferedImage.TYPE_INT_RGB), "png",
                picture.toFile());
    }

    @Test
    @SuppressWarnings("unchecked")
    void inspectOfNvlmD72bPrintsItsTensorsAndExits3ForTheMissingShards() {
        CommandLineRun run = CommandLineRun.of("inspect", "--model", PUBLISHED.resolve("nvlm-d-72b").toString(), "--json").expect(3);
        Map<String, Object> json = Json.parseObject(run.out());
        assertEquals("NVLM_D", json.get("architecture"));
        assertEquals(79_379_593_344L, json.get("parameters"));
        assertEquals(1556, ((Map<String, Object>) json.get("tensors")).size());
        String text = CommandLineRun.of("inspect", "--model", PUBLISHED.resolve("nvlm-d-72b").toString()).expect(3).out();
        assertTrue(text.contains("46 shard files missing") && text.contains("dynamic NTK x3.0 beyond 32768"), text);
    }

    @Test
    void initLikeWritesACompleteFolderInThePublishedLayout() {
        Path out = tmp.resolve("init-like");
        String said = CommandLineRun.of("init", "--like", small.toString(), "--dtype", "bf16", "--out", out.toString()).expect(0).out();
        assertTrue(said.contains("random weights in the layout of"), said);
        assertTrue(CommandLineRun.of("inspect", "--model", out.toString()).expect(0).out().contains("complete"));
        assertTrue(CommandLineRun.of("init", "--out", out.toString()).expect(2).err().contains("--arch is required"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void generateExpandsImagePlaceholdersAndPrintsJson() {
        CommandLineRun run = CommandLineRun.of("generate", "--model", model.toString(), "--prompt", "A <image> B", "--image",
                picture.toString(), "--max-new-tokens", "3", "--json").expect(0);
        Map<String, Object> json = Json.parseObject(run.out().strip());
        List<Long> prompt = (List<Long>) json.get("prompt_ids");
        assertEquals(256, prompt.stream().filter(id -> id == 151648L).count());
        assertTrue(prompt.contains(151646L) && prompt.contains(151647L), "<img> and </img>");
        assertTrue(((List<Long>) json.get("ids")).size() <= 3);
        String err = CommandLineRun.of("generate", "--model", model.toString(), "--prompt", "no placeholder", "--image",
                picture.toString()).expect(1).err();
        assertTrue(err.contains("0 <image> placeholders but 1 images"), err);
    }

    @Test
    void chatAnswersOneQuestionAndTalksTurnByTurnWithoutOne() {
        CommandLineRun one = CommandLineRun.of("chat", "--model", model.toString(), "--image", picture.toString(),
                "--max-new-tokens", "3", "What is this?").expect(0);
        assertTrue(!one.out().isBlank(), one.err());
        String turns = String.join("\n", "/image " + picture, "What is this?", "/image /no/such.png", "/system Be brief.",
                "And now?", "/reset", "/bogus", "/exit", "");
        InputStream saved = System.in;
        CommandLineRun chat;
        try {
            System.setIn(new ByteArrayInputStream(turns.getBytes(StandardCharsets.UTF_8)));
            chat = CommandLineRun.of("chat", "--model", model.toString(), "--max-new-tokens", "3").expect(0);
        } finally {
            System.setIn(saved);
        }
        String out = chat.out();
        assertTrue(out.contains("goes with the next question"), out);
        assertTrue(out.contains("no such image file: /no/such.png"), out);
        assertTrue(out.contains("system prompt set; conversation reset"), out);
        assertTrue(out.contains("conversation reset"), out);
        assertTrue(out.contains("unknown command /bogus"), out);
    }

    @Test
    @SuppressWarnings("unchecked")
    void bareQwen2FolderInspectsGeneratesAndChatsAsTextAndRefusesImages() {
        Map<String, Object> json = Json.parseObject(CommandLineRun.of("inspect", "--model", qwen2.toString(), "--json").expect(0).out());
        assertEquals("qwen2", json.get("architecture"));
        assertTrue(((Map<String, Object>) json.get("tensors")).containsKey("model.layers.1.mlp.down_proj.weight"));
        Map<String, Object> gen = Json.parseObject(CommandLineRun.of("generate", "--model", qwen2.toString(), "--prompt", "Once upon",
                "--max-new-tokens", "3", "--json").expect(0).out().strip());
        assertTrue(((List<Long>) gen.get("ids")).size() <= 3);
        String err = CommandLineRun.of("generate", "--model", qwen2.toString(), "--prompt", "A <image> B", "--image",
                picture.toString()).expect(1).err();
        assertTrue(err.contains("takes no images"), err);
        String chatErr = CommandLineRun.of("chat", "--model", qwen2.toString(), "--image", picture.toString(), "--max-new-tokens", "3",
                "What is this?").expect(1).err();
        assertTrue(chatErr.contains("takes no images"), chatErr);
        assertTrue(!CommandLineRun.of("chat", "--model", qwen2.toString(), "--max-new-tokens", "3", "Hi").expect(0).out().isBlank());
        InputStream saved = System.in;
        CommandLineRun chat;
        try {
            System.setIn(new ByteArrayInputStream(String.join("\n", "/image " + picture, "Hi", "/exit", "")
                    .getBytes(StandardCharsets.UTF_8)));
            chat = CommandLineRun.of("chat", "--model", qwen2.toString(), "--max-new-tokens", "3").expect(0);
        } finally {
            System.setIn(saved);
        }
        assertTrue(chat.out().contains("text-only (no vision encoder): it takes no images"), chat.out());
    }
}
