package nvlm.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {
    @TempDir
    Path dir;

    @Test
    void reopeningAtARecordedLengthDropsWhatCameAfter() throws Exception {
        Path f = dir.resolve(MetricsLog.FILE);
        long mark;
        try (MetricsLog log = MetricsLog.open(f, 0)) {
            log.append(Map.of("step", 1L, "loss", 2.5));
            mark = log.length();
            log.append(Map.of("step", 2L, "loss", 2.25));
        }
        assertEquals(2, MetricsLog.read(f).size());
        try (MetricsLog log = MetricsLog.open(f, mark)) {
            log.append(Map.of("step", 2L, "loss", 2.0));
        }
        List<Map<String, Object>> records = MetricsLog.read(f);
        assertEquals(List.of(1L, 2L), records.stream().map(r -> r.get("step")).toList());
        assertEquals(2.0, records.get(1).get("loss"));

        IOException tooLong = assertThrows(IOException.class, () -> MetricsLog.open(f, Files.size(f) + 10));
        assertTrue(tooLong.getMessage().contains(f.toString()), tooLong.getMessage());
        Files.writeString(f, "{\"step\": 1}\nnot json\n");
        IOException bad = assertThrows(IOException.class, () -> MetricsLog.read(f));
        assertTrue(bad.getMessage().startsWith(f + ":2:"), bad.getMessage());
    }
}
