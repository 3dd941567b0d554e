package nvlm.trainer.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import nvlm.api.Chat;
import nvlm.api.Completion;
import nvlm.api.GenerationOptions;
import nvlm.api.ImageInput;
import nvlm.api.VisionLanguageModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ./nvlm chat}: answers a question about images, or talks turn by turn when no question is given. */
@Command(name = "chat", header = "chat with a model folder about images: one question, or an interactive conversation",
        description = """
                Tiles each image as the model's config says (docs/model.md §1), builds the folder's own chat prompt (the
                project's, NVLM-D's chatml or InternVL2's Hermes-2) and streams the answer, stopping at the end-of-turn
                token. Without QUESTION it reads turns from standard input: /image FILE attaches an image to the next
                question, /system TEXT replaces the system prompt, /reset forgets the conversation, /exit (or end of
                input) leaves; Ctrl-C stops the answer being written, not the conversation.""")
public final class ChatCommand implements NvlmCommand {
    @Parameters(paramLabel = "QUESTION", arity = "0..1", description = "the question (quote it); none: interactive")
    String question;
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "a model folder (published or the project's)")
    Path model;
    @Option(names = "--image", paramLabel = "F", description = "an image (PNG, JPEG, BMP, GIF); repeat for several, in order")
    List<Path> images = new ArrayList<>();
    @Mixin
    SamplingOptions sampling;
    @Option(names = "--parse-special-tokens", description = "let special-token text in the question (<|im_end|>, <|im_start|>)"
            + " become those tokens; by default the question is plain text")
    boolean parseSpecialTokens;
    @Option(names = "--system", paramLabel = "TEXT", description = "the system prompt (default: the folder's own)")
    String system;
    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws Exception {
        GenerationOptions options = sampling.options();
        try (VisionLanguageModel vlm = VisionLanguageModel.open(model, device.device)) {
            // the prompt + --max-new-tokens is checked against the context length before the KV cache (Generator)
            Chat chat = vlm.newChat().system(system).specialTokensInText(parseSpecialTokens);
            if (question != null) {
                chat.ask(images.stream().map(ImageInput::file).toList(), question, options, ChatCommand::print);
                System.out.println();
                return 0;
            }
            converse(chat, vlm.acceptsImages(), options, new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), System.out);
        }
        return 0;
    }

    private static void print(String text) {
        System.out.print(text);
        System.out.flush();
    }

    /** The interactive loop; Ctrl-C while an answer is written stops that answer. */
    void converse(Chat chat, boolean acceptsImages, GenerationOptions options, BufferedReader in, PrintStream out) throws Exception {
        AtomicBoolean answering = new AtomicBoolean();
        AtomicBoolean cancel = new AtomicBoolean();
        if (System.console() != null) {
            installInterruptHandler(answering, cancel);
        }
        List<ImageInput> pending = new ArrayList<>();
        images.forEach(p -> pending.add(ImageInput.file(p)));
        out.println("chat with " + model + " (" + "/image FILE, /system TEXT, /reset, /exit; Ctrl-C stops an answer)");
        while (true) {
            out.print("> ");
            out.flush();
            String line = in.readLine();
            if (line == null || line.strip().equals("/exit")) {
                return;
            }
            line = line.strip();
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("/image ")) {
                Path file = Path.of(line.substring(7).strip());
                if (!acceptsImages) {
                    out.println("this model is text-only (no vision encoder): it takes no images");
                } else if (!Files.isRegularFile(file)) {
                    out.println("no such image file: " + file);
                } else {
                    pending.add(ImageInput.file(file));
                    out.println("image " + file + " goes with the next question");
                }
                continue;
            }
            if (line.startsWith("/system")) {
                String text = line.substring(7).strip();
                chat.system(text.isEmpty() ? null : text).reset();
                out.println(text.isEmpty() ? "system prompt: the folder's default; conversation reset" : "system prompt set; conversation reset");
                continue;
            }
            if (line.equals("/reset")) {
                chat.reset();
                pending.clear();
                out.println("conversation reset");
                continue;
            }
            if (line.startsWith("/")) {
                out.println("unknown command " + line.split(" ")[0] + " (/image FILE, /system TEXT, /reset, /exit)");
                continue;
            }
            cancel.set(false);
            answering.set(true);
            try {
                Completion c = chat.ask(List.copyOf(pending), line, options, text -> {
                    out.print(text);
                    out.flush();
                }, cancel::get);
                out.println(c.finishReason().equals("cancelled") ? " [stopped]" : "");
            } catch (java.io.IOException | IllegalArgumentException e) {
                out.println("error: " + e.getMessage());
            } finally {
                answering.set(false);
                pending.clear();
            }
        }
    }

    /** SIGINT: stops the answer being generated; when none is, leaves as usual. */
    private static void installInterruptHandler(AtomicBoolean answering, AtomicBoolean cancel) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), signal -> {
                if (answering.get()) {
                    cancel.set(true);
                } else {
                    System.out.println();
                    System.exit(130);
                }
            });
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            // no SIGINT on this platform: Ctrl-C ends the program as usual
        }
    }
}
