package nvlm.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import nvlm.tensor.io.Json;
import org.junit.jupiter.api.Test;

class EvalResultTest {
    @Test
    void exactMatchComparesTrimmedTextCaseAndInnerSpacesIncluded() {
        assertTrue(ExactMatch.matches(" K7Q\n", "K7Q"));
        assertTrue(ExactMatch.matches("red circle", " red circle "));
        assertFalse(ExactMatch.matches("k7q", "K7Q"));
        assertFalse(ExactMatch.matches("red  circle", "red circle"));
        assertFalse(ExactMatch.matches("K7", "K7Q"));
        assertFalse(ExactMatch.matches("", "3"));
    }

    private static EvalResult result() {
        return new EvalResult(List.of(new FamilyScore("ocr", 9, 10), new FamilyScore("counting", 4, 5),
                new FamilyScore("text_arithmetic", 7, 10), new FamilyScore("text_string", 3, 5)), List.of());
    }

    @Test
    void jsonIsOneObjectOfAccuraciesInZeroToOneWithTextOnlyFamiliesNamedText() {
        String json = result().toJson();
        Map<String, Object> parsed = Json.parseObject(json);
        assertEquals(List.of("ocr", "counting", "text_arithmetic", "text_string"), List.copyOf(parsed.keySet()));
        assertEquals(0.9, ((Number) parsed.get("ocr")).doubleValue(), 0);
        assertEquals(0.6, ((Number) parsed.get("text_string")).doubleValue(), 0);
        assertFalse(json.contains("\n"), "one line");
        assertEquals(Map.of("ocr", 0.9, "counting", 0.8, "text_arithmetic", 0.7, "text_string", 0.6), EvalResult.parseJson(json, "x"));
        assertThrows(IllegalArgumentException.class, () -> EvalResult.parseJson("{\"ocr\":1.5}", "eval.json"));
    }

    @Test
    void tableListsImageFamiliesThenTextOnlyFamiliesApartWithTheirMeans() {
        String table = result().table();
        int ocr = table.indexOf("ocr");
        int text = table.indexOf("text-only tasks");
        int arithmetic = table.indexOf("text_arithmetic");
        assertTrue(ocr > 0 && table.indexOf("image tasks") < ocr && ocr < text && text < arithmetic, table);
        assertTrue(table.contains("90.0%") && table.contains("9/10"), table);
        assertEquals(0.85, result().imageAccuracy(), 1e-12);
        assertEquals(0.65, result().textOnlyAccuracy(), 1e-12);
        assertTrue(result().score("text_string").textOnly());
        assertFalse(result().score("ocr").textOnly());
    }
}
