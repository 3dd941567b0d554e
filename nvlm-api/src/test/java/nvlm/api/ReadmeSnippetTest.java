package nvlm.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Use it from Java" snippet, compiled as it stands and run on a random-weight InternVL2-1B-layout folder. */
class ReadmeSnippetTest {
    @TempDir
    Path tmp;

    static String snippet() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int section = readme.indexOf("## Use it from Java");
        assertTrue(section >= 0, "README has a 'Use it from Java' section");
        int start = readme.indexOf("```java\n", section) + "```java\n".length();
        int end = readme.indexOf("```", start);
        return readme.substring(start, end);
    }

    @Test
    void theReadmeSnippetCompilesAndAnswers() throws Exception {
        String code = snippet();
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("Example.java"), code);
        Path classes = Files.createDirectories(tmp.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        int rc = javac.run(null, null, errors, "-d", classes.toString(), "-cp", System.getProperty("java.class.path"),
                "--add-modules", "jdk.incubator.vector", src.resolve("Example.java").toString());
        assertEquals(0, rc, errors.toString(StandardCharsets.UTF_8));

        Path folder = TestFolders.internVl(tmp.resolve("internvl"));
        Path picture = TestFolders.png(tmp.resolve("cat.png"), 448, 448, 1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
            Method main = loader.loadClass("Example").getMethod("main", String[].class);
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            main.invoke(null, (Object) new String[] {folder.toString(), picture.toString()});
        } finally {
            System.setOut(saved);
        }
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertTrue(lines.getLast().matches("\\[(stop|length), \\d+ tokens\\]"), String.join("\n", lines));
    }
}
