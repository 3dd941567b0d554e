package nvlm.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A JVM started without the engine's flags is told which flags, by name. */
class JvmFlagsTest {
    /** Run in a child JVM. */
    public static void main(String[] args) {
        JvmFlags.require();
        System.out.println("flags present");
    }

    private static String run(List<String> flags) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new java.util.ArrayList<>(List.of(java));
        cmd.addAll(flags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), JvmFlagsTest.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    @Test
    void missingFlagsAreNamed() throws Exception {
        String none = run(List.of());
        assertTrue(none.contains("--add-modules jdk.incubator.vector") && none.contains("--enable-native-access=ALL-UNNAMED"), none);
        String onlyVector = run(List.of("--add-modules", "jdk.incubator.vector"));
        assertTrue(!onlyVector.contains("jdk.incubator.vector   (") && onlyVector.contains("--enable-native-access"), onlyVector);
        String both = run(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        assertEquals("flags present", both.lines().filter(l -> !l.startsWith("WARNING")).findFirst().orElse(""), both);
    }
}
