package nvlm.trainer.cli;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import nvlm.api.VisionLanguageModel;
import nvlm.api.server.OpenAiServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./nvlm serve}: an OpenAI-compatible HTTP server for one model folder. */
@Command(name = "serve", header = "serve a model folder over an OpenAI-compatible HTTP API, with a chat page at /",
        description = """
                POST /v1/chat/completions (messages with text and image_url parts: data: URLs, or file paths under
                --allow-image-dir; "stream": true for server-sent events), GET /v1/models, GET /health, and a browser chat
                page at /. Listens at once and answers 503 until the model is loaded; requests beyond the queue get 429,
                oversized bodies 413, too large images and too long contexts 400, each with a JSON error.""")
public final class ServeCommand implements NvlmCommand {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "a model folder (published or the project's)")
    Path model;
    @Option(names = "--port", paramLabel = "P", description = "TCP port (default ${DEFAULT-VALUE}; 0 picks a free one)")
    int port = 8000;
    @Option(names = "--host", paramLabel = "H", description = "address to listen on (default ${DEFAULT-VALUE}: this machine only)")
    String host = "127.0.0.1";
    @Option(names = "--allow-image-dir", paramLabel = "DIR", description = "image file paths in requests may name files under DIR"
            + " (default: none, only data: URLs)")
    Path allowImageDir;
    @Option(names = "--max-queue", paramLabel = "N", description = "requests that may wait behind the one generating (default"
            + " ${DEFAULT-VALUE})")
    int maxQueue = 8;
    @Option(names = "--max-request-mb", paramLabel = "MB", converter = OptionTypes.AtLeastOne.class,
            description = "largest request body (default ${DEFAULT-VALUE})")
    int maxRequestMb = 20;
    @Option(names = "--max-image-pixels", paramLabel = "N", description = "largest image, width x height (default ${DEFAULT-VALUE})")
    long maxImagePixels = 25_000_000L;
    @Option(names = "--max-context", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "prompt tokens + max_tokens allowed (default ${DEFAULT-VALUE})")
    int maxContext = 8192;
    @Option(names = "--max-tokens", paramLabel = "N", converter = OptionTypes.AtLeastOne.class,
            description = "largest max_tokens a request may ask for (default ${DEFAULT-VALUE})")
    int maxTokens = 1024;

    @Override
    public Integer call() throws Exception {
        if (maxQueue < 0) {
            throw new UsageException("--max-queue must be 0 or more, got " + maxQueue);
        }
        var limits = new OpenAiServer.Limits((long) maxRequestMb << 20, maxImagePixels, maxContext, maxTokens, maxQueue);
        String id = model.toAbsolutePath().normalize().getFileName().toString();
        OpenAiServer server = OpenAiServer.start(new InetSocketAddress(host, port), () -> VisionLanguageModel.open(model), id, limits,
                allowImageDir);
        System.err.printf("nvlm serve: http://%s:%d/ (model %s loading; GET /health says when it is ready)%n", host, server.port(), id);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        new CountDownLatch(1).await();
        return 0;
    }
}
