package nvlm.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import nvlm.kernels.DType;
import nvlm.kernels.Parallel;
import nvlm.model.Batch;
import nvlm.model.Generator;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.model.config.Architecture;
import nvlm.tensor.CpuMemoryPool;
import nvlm.tensor.io.DurableFiles;
import nvlm.tensor.io.Json;
import nvlm.trainer.cli.OptionTypes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./nvlm bench generate}: prefill and decode tokens/s of {@link Generator} on a random-weight
 * BF16 model of InternVL2-1B's shape, for a text prompt, one 448x448 image and a 6+1-tile image,
 * against PyTorch eager on the same weights and prompts (tests/reference/bench_generate.py), Jlama
 * on the same Qwen2 weights (text case; {@link JlamaPeer}) and the memory-bandwidth roofline: the
 * bytes of weights a decoded token reads against a copy bandwidth and a read-only bandwidth
 * measured in the same run over buffers of the weights' size ({@link CopyBandwidth}).
 */
@Command(name = "generate", header = "prefill and decode tokens/s vs PyTorch, Jlama and the memory-bandwidth roofline",
        description = """
                Builds NVLM-D of InternVL2-1B's shape (../shared/real/internvl2-1b/config.json; random weights, linear
                weights BF16) and times greedy generation with a KV cache: prefill = prompt tokens / time to the first
                token (vision encoder included), decode = tokens / time for the following ones. Cases: text (a
                512-token prompt), image (one 448x448 tile), tiles (a 6+1-tile image). Prints one JSON line per case
                and phase, e.g. {"case":"text","phase":"decode","java_tokens_per_s":..,"jlama_tokens_per_s":..,
                "torch_tokens_per_s":..,"roofline_tokens_per_s":..,"read_roofline_tokens_per_s":..} (null where a peer
                does not apply or failed; the reason goes to stderr), then a table on stderr. Medians over --repeats
                runs per case. The rooflines are the weights' bytes per token against a copy bandwidth (read plus
                written bytes) and a read-only bandwidth, both measured in the same run over buffers of the
                weights' size.""")
final class GenerateBench implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "the published config.json whose shape is timed"
            + " (default: ../shared/real/internvl2-1b/config.json beside the repository)")
    Path config;
    @Option(names = "--preset", paramLabel = "P", description = "time a project preset (tiny, small) instead of --config")
    String preset;
    @Option(names = "--cases", paramLabel = "C", split = ",", description = "text, image, tiles (default: all)")
    List<String> cases = List.of("text", "image", "tiles");
    @Option(names = "--prompt-tokens", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "text tokens of the text case (default ${DEFAULT-VALUE})")
    int promptTokens = 512;
    @Option(names = "--image-text-tokens", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "text tokens around the image in the image cases (default ${DEFAULT-VALUE})")
    int imageTextTokens = 32;
    @Option(names = "--new-tokens", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "tokens generated per run, the first one ending prefill (default ${DEFAULT-VALUE})")
    int newTokens = 33;
    @Option(names = "--repeats", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "runs per case and implementation; medians are reported (default ${DEFAULT-VALUE})")
    int repeats = 3;
    @Option(names = "--peers", paramLabel = "P", split = ",", description = "torch, jlama (default: both; 'none' for neither)")
    List<String> peers = List.of("torch", "jlama");
    @Option(names = "--python", paramLabel = "P", description = "the interpreter with torch (default ${DEFAULT-VALUE})")
    String python = "/usr/bin/python3";
    @Option(names = "--torch-dtype", paramLabel = "T", description = "bf16 (default: the checkpoint's, as users run it) or float32:"
            + " the PyTorch peer's weights and activations; float32 takes away its bf16 dot-product instructions, which the"
            + " Java side has no equivalent of")
    TorchDtype torchDtype = TorchDtype.bf16;

    /** The PyTorch peer's dtypes, spelled as {@code bench_generate.py --dtype} takes them. */
    enum TorchDtype { bf16, float32 }
    @Option(names = "--work", paramLabel = "DIR", description = "where the model folder for the peers is written"
            + " (default: a temporary folder, removed at the end)")
    Path work;

    record Timing(double prefillTokensPerS, double decodeTokensPerS) {
    }

    /** What the Java decode allocated per token after the first: fresh native blocks (the pool's misses) and heap bytes. */
    record DecodeAllocation(double freshBlocksPerToken, double heapBytesPerToken) {
    }

    private final Map<String, DecodeAllocation> allocations = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        for (String c : cases) {
            if (!List.of("text", "image", "tiles").contains(c)) {
                throw new IllegalArgumentException("--cases: unknown case '" + c + "' (text, image, tiles)");
            }
        }
        for (String p : peers) {
            if (!List.of("torch", "jlama", "none").contains(p)) {
                throw new IllegalArgumentException("--peers: unknown peer '" + p + "' (torch, jlama, none)");
            }
        }
        NvlmConfig cfg = preset != null ? Presets.get(preset, Architecture.D) : GenerationModel.config(configFile());
        System.err.printf("generate: building %s (random weights, BF16 linear weights), %d threads; machine load: %s%n",
                cfg.preset(), Parallel.threads(), loadAverage());
        long built = System.nanoTime();
        Nvlm model = GenerationModel.create(cfg, 1);
        System.err.printf("generate: model built in %.1f s (%,d parameters drawn at random, then cast)%n",
                (System.nanoTime() - built) / 1e9, model.parameterCount());
        long weightBytes = GenerationModel.decodeWeightBytes(model);
        double copyBytesPerS = CopyBandwidth.copy(weightBytes);
        double readBytesPerS = CopyBandwidth.read(weightBytes);
        double roofline = copyBytesPerS / weightBytes;
        double readRoofline = readBytesPerS / weightBytes;
        System.err.printf("roofline: %.2f GB/s copy bandwidth (read + written), %.2f GB/s read only, over buffers of the"
                + " weights' size; %.1f MB of weights per decoded token -> %.1f tokens/s (copy), %.1f (read)%n",
                copyBytesPerS / 1e9, readBytesPerS / 1e9, weightBytes / 1e6, roofline, readRoofline);

        boolean temporary = work == null;
        Path dir = temporary ? Files.createTempDirectory("nvlm-bench-generate") : work;
        try {
            boolean torch = peers.contains("torch");
            boolean jlama = peers.contains("jlama") && cases.contains("text");
            Path modelDir = dir.resolve("model");
            if (torch) {
                System.err.println("generate: writing the weights for PyTorch to " + modelDir);
                Checkpoint.save(model, modelDir, DType.BF16, Long.MAX_VALUE);
            }
            Map<String, Batch> prompts = new LinkedHashMap<>();
            Map<String, Timing> javaTimings = new LinkedHashMap<>();
            Map<String, Path> batchFiles = new LinkedHashMap<>();
            for (String c : cases) {
                int tiles = switch (c) {
                    case "image" -> 1;
                    case "tiles" -> cfg.tiling().maxTiles() + 1;
                    default -> 0;
                };
                Batch prompt = GenerationModel.prompt(cfg, tiles == 0 ? promptTokens : imageTextTokens, tiles, 7);
                prompts.put(c, prompt);
                javaTimings.put(c, javaTiming(model, prompt, c));
                if (torch) {
                    Path batchFile = dir.resolve(c + ".batch.safetensors");
                    prompt.write(batchFile);
                    batchFiles.put(c, batchFile);
                }
            }
            Path qwen2 = dir.resolve("jlama-qwen2");
            if (jlama) {
                System.err.println("generate: writing the language model as a Qwen2 folder for Jlama to " + qwen2);
                JlamaPeer.writeQwen2Folder(model, qwen2, promptTokens + newTokens + 64);
            }
            // The peers run one at a time in processes of their own: this one gives its weights back first.
            model = null;
            GenerationModel.releaseUnreachable();
            Map<String, Timing> torchTimings = torch ? torchTimings(modelDir, batchFiles) : Map.of();
            Timing jl = jlama ? JlamaPeer.timing(qwen2, prompts.get("text"), newTokens, repeats,
                    ProcessHandle.current().info().command().orElse("java")) : null;
            List<Map<String, Object>> rows = new ArrayList<>();
            for (String c : cases) {
                for (String phase : List.of("prefill", "decode")) {
                    boolean prefill = phase.equals("prefill");
                    Map<String, Object> json = new LinkedHashMap<>();
                    json.put("case", c);
                    json.put("phase", phase);
                    json.put("prompt_tokens", prompts.get(c).length());
                    json.put("java_tokens_per_s", pick(javaTimings.get(c), prefill));
                    json.put("jlama_tokens_per_s", c.equals("text") ? pick(jl, prefill) : null);
                    json.put("torch_tokens_per_s", pick(torchTimings.get(c), prefill));
                    json.put("torch_dtype", torch ? torchDtype.name() : null);
                    json.put("roofline_tokens_per_s", prefill ? null : roofline);
                    json.put("read_roofline_tokens_per_s", prefill ? null : readRoofline);
                    json.put("threads", (long) Parallel.threads());
                    if (!prefill) {
                        json.put("java_fresh_native_blocks_per_token", allocations.get(c).freshBlocksPerToken());
                        json.put("java_heap_bytes_per_token", allocations.get(c).heapBytesPerToken());
                    }
                    System.out.println(Json.write(json));
                    rows.add(json);
                }
            }
            printTable(rows, cfg);
            return 0;
        } finally {
            if (temporary) {
                DurableFiles.deleteTree(dir);
            }
        }
    }

    private Path configFile() {
        if (config != null) {
            return config;
        }
        Path root = Path.of(System.getProperty("nvlm.root", "."));
        Path inside = root.resolve("shared/real/internvl2-1b/config.json");
        return Files.isRegularFile(inside) ? inside : root.resolve("../shared/real/internvl2-1b/config.json").normalize();
    }

    private static Double pick(Timing t, boolean prefill) {
        return t == null ? null : prefill ? t.prefillTokensPerS() : t.decodeTokensPerS();
    }

    /** Medians over the repeats, after one untimed warm-up run of the case. */
    private Timing javaTiming(Nvlm model, Batch prompt, String c) {
        Generator generator = new Generator(model);
        double[] prefill = new double[repeats];
        double[] decode = new double[repeats];
        for (int r = -1; r < repeats; r++) {
            long[] stamps = new long[newTokens];
            long[] fresh = new long[newTokens];
            long[] heap = new long[newTokens];
            int[] n = {0};
            var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            long self = Thread.currentThread().threadId();
            long start = System.nanoTime();
            generator.generate(prompt, Generator.Settings.greedy(newTokens), token -> {
                stamps[n[0]] = System.nanoTime();
                fresh[n[0]] = CpuMemoryPool.instance().freshBlocks();
                heap[n[0]++] = threads.getThreadAllocatedBytes(self);
            });
            if (n[0] < 2) {
                throw new IllegalStateException("generation stopped after " + n[0] + " token(s): nothing to time decode on");
            }
            if (r >= 0) {
                prefill[r] = prompt.length() / ((stamps[0] - start) / 1e9);
                decode[r] = (n[0] - 1) / ((stamps[n[0] - 1] - stamps[0]) / 1e9);
                allocations.put(c, new DecodeAllocation((fresh[n[0] - 1] - fresh[0]) / (double) (n[0] - 1),
                        (heap[n[0] - 1] - heap[0]) / (double) (n[0] - 1)));
                System.err.printf(Locale.ROOT, "java  %-5s run %d: prefill %.1f tokens/s, decode %.2f tokens/s%n", c, r + 1,
                        prefill[r], decode[r]);
            }
        }
        return new Timing(Samples.median(prefill), Samples.median(decode));
    }

    /** The reference's medians per case, from one process that loads the weights once; empty (reason on stderr) when it fails. */
    private Map<String, Timing> torchTimings(Path modelDir, Map<String, Path> batchFiles) throws IOException, InterruptedException {
        Path script = Path.of(System.getProperty("nvlm.root", "."), "tests", "reference", "bench_generate.py");
        List<String> command = new ArrayList<>(List.of(python, script.toString(), "--model", modelDir.toString(),
                "--new-tokens", Integer.toString(newTokens), "--repeats", Integer.toString(repeats), "--threads",
                Integer.toString(Parallel.threads()), "--dtype", torchDtype.name()));
        batchFiles.forEach((c, f) -> command.addAll(List.of("--batch", c + "=" + f)));
        Process process;
        try {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            System.err.println("torch: cannot start " + python + ": " + e.getMessage());
            return Map.of();
        }
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        int status = process.waitFor();
        Map<String, Timing> timings = new LinkedHashMap<>();
        for (String line : out.isEmpty() ? new String[0] : out.split("\n")) {
            Map<String, Object> json = Json.parseObject(line);
            timings.put((String) json.get("case"), new Timing(((Number) json.get("prefill_tokens_per_s")).doubleValue(),
                    ((Number) json.get("decode_tokens_per_s")).doubleValue()));
        }
        if (status != 0) {
            System.err.println("torch: " + script.getFileName() + " failed (exit " + status + ") after " + timings.keySet());
        }
        return timings;
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static void printTable(List<Map<String, Object>> rows, NvlmConfig cfg) {
        System.err.printf("%n%s, NVLM-D, BF16 weights, %d threads (tokens/s, medians)%n", cfg.preset(), Parallel.threads());
        System.err.printf("%-6s %-8s %7s %10s %10s %10s %10s %10s %10s %10s%n", "case", "phase", "prompt", "java", "jlama", "torch",
                "roofline", "read-roof", "java/torch", "java/jlama");
        for (Map<String, Object> r : rows) {
            System.err.printf("%-6s %-8s %7s %10s %10s %10s %10s %10s %10s %10s%n", r.get("case"), r.get("phase"), r.get("prompt_tokens"),
                    fmt(r.get("java_tokens_per_s")), fmt(r.get("jlama_tokens_per_s")), fmt(r.get("torch_tokens_per_s")),
                    fmt(r.get("roofline_tokens_per_s")), fmt(r.get("read_roofline_tokens_per_s")),
                    ratio(r.get("java_tokens_per_s"), r.get("torch_tokens_per_s")),
                    ratio(r.get("java_tokens_per_s"), r.get("jlama_tokens_per_s")));
        }
    }

    private static String fmt(Object v) {
        return v instanceof Double d ? String.format(Locale.ROOT, "%.2f", d) : "-";
    }

    private static String ratio(Object a, Object b) {
        return a instanceof Double x && b instanceof Double y ? String.format(Locale.ROOT, "%.2fx", x / y) : "-";
    }
}
