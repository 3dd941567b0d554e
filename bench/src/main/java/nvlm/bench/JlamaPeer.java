package nvlm.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nvlm.kernels.DType;
import nvlm.kernels.Parallel;
import nvlm.model.Batch;
import nvlm.model.Nvlm;
import nvlm.model.config.LlmConfig;
import nvlm.tensor.Tensor;
import nvlm.tensor.io.Json;
import nvlm.tensor.io.Safetensors;

/**
 * The Jlama side of {@code bench generate}'s text case: the language model's own weights written
 * as a Hugging Face Qwen2 folder (config.json, model.safetensors in BF16, a stub tokenizer.json:
 * prompts go in as token ids), timed by {@link JlamaRunner} in a JVM of its own on the class path
 * Maven wrote to {@code bench/target/jlama.classpath} (Jlama stays out of nvlm.jar).
 */
final class JlamaPeer {
    private JlamaPeer() {
    }

    /** Writes the Qwen2 folder of {@code model}'s language model; context sized for {@code positions}. */
    static void writeQwen2Folder(Nvlm model, Path dir, int positions) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> weights = new LinkedHashMap<>();
        model.stateDict().forEach((name, t) -> {
            if (name.startsWith("language_model.")) {
                weights.put(name.substring("language_model.".length()), t.detach().to(DType.BF16));
            }
        });
        Safetensors.save(dir.resolve("model.safetensors"), weights, Map.of("format", "pt"));
        LlmConfig l = model.config().llm();
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of("Qwen2ForCausalLM"));
        config.put("model_type", "qwen2");
        config.put("hidden_size", (long) l.hiddenSize());
        config.put("intermediate_size", (long) l.intermediateSize());
        config.put("num_attention_heads", (long) l.numHeads());
        config.put("num_key_value_heads", (long) l.numKvHeads());
        config.put("num_hidden_layers", (long) l.numLayers());
        config.put("max_position_embeddings", (long) positions);
        config.put("rms_norm_eps", l.rmsNormEps());
        config.put("rope_theta", l.ropeTheta());
        config.put("vocab_size", (long) l.vocabSize());
        config.put("tie_word_embeddings", l.tieWordEmbeddings());
        config.put("hidden_act", "silu");
        config.put("bos_token_id", (long) model.config().tokens().pad());
        config.put("eos_token_id", (long) model.config().tokens().imEnd());
        config.put("torch_dtype", "bfloat16");
        Files.writeString(dir.resolve("config.json"), Json.writePretty(config));
        // Jlama's loader requires a tokenizer; the benchmark never tokenizes.
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"model": {"type": "BPE", "unk_token": null, "fuse_unk": false, "byte_fallback": false,
                           "vocab": {"a": 0, "b": 1}}}
                """);
    }

    /** Median prefill and decode tokens/s of Jlama on the prompt's ids, or null (reason on stderr). */
    static GenerateBench.Timing timing(Path qwen2Dir, Batch prompt, int newTokens, int repeats, String java)
            throws IOException, InterruptedException {
        Path root = Path.of(System.getProperty("nvlm.root", "."));
        Path classpathFile = root.resolve("bench/target/jlama.classpath");
        Path jar = root.resolve("bench/target/nvlm.jar");
        if (!Files.isRegularFile(classpathFile) || !Files.isRegularFile(jar)) {
            System.err.println("jlama: " + classpathFile + " or " + jar + " missing (build with mvn package, or run through ./nvlm)");
            return null;
        }
        Path ids = qwen2Dir.resolve("prompt.txt");
        StringBuilder text = new StringBuilder();
        for (long id : prompt.inputIds().toLongArray()) {
            text.append(id).append('\n');
        }
        Files.writeString(ids, text);
        List<String> command = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx4g", "-cp",
                jar + ":" + Files.readString(classpathFile).strip(), JlamaRunner.class.getName(), qwen2Dir.toString(), ids.toString(),
                Integer.toString(newTokens), Integer.toString(repeats), Integer.toString(Parallel.threads())));
        Process process;
        try {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            System.err.println("jlama: cannot start " + java + ": " + e.getMessage());
            return null;
        }
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        int status = process.waitFor();
        if (status != 0 || out.isEmpty()) {
            System.err.println("jlama: the runner failed (exit " + status + ")");
            return null;
        }
        Map<String, Object> json = Json.parseObject(out.substring(out.lastIndexOf('\n') + 1));
        return new GenerateBench.Timing(((Number) json.get("prefill_tokens_per_s")).doubleValue(),
                ((Number) json.get("decode_tokens_per_s")).doubleValue());
    }
}
