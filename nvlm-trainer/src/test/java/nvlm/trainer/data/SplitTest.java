package nvlm.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SplitTest {
    private static final SyntheticWorld WORLD = new SyntheticWorld(WorldConfig.defaults(112));

    /** 2000 samples of every family in every split: no content key (the picture, or the text question) is in two splits. */
    @Test
    void splitsNeverShareAContentKey() {
        int perSplit = 2000;
        for (Family f : Family.values()) {
            Map<String, Split> owner = new HashMap<>();
            Map<Split, Set<String>> keys = new EnumMap<>(Split.class);
            for (Split split : Split.values()) {
                keys.put(split, new HashSet<>());
                for (int i = 0; i < perSplit; i++) {
                    String key = WORLD.task(split, f, i).key();
                    keys.get(split).add(key);
                    Split previous = owner.putIfAbsent(key, split);
                    if (previous != null && previous != split) {
                        throw new AssertionError(f.id() + ": '" + key + "' is in " + previous.id() + " and " + split.id());
                    }
                }
            }
            // The keys are specific to the picture: OCR codes and scattered shapes almost never repeat.
            // (Spatial boards and charts live in smaller spaces, ~8000 charts at S=112: a 10% split holds
            // a few hundred distinct ones; text questions repeat within a split, never across.)
            if (f == Family.OCR || f == Family.COUNTING) {
                for (Split split : Split.values()) {
                    assertTrue(keys.get(split).size() > perSplit * 0.99, f.id() + " " + split.id() + ": only "
                            + keys.get(split).size() + " distinct of " + perSplit);
                }
            }
        }
    }

    @Test
    void aSplitOwnsItsShareOfTheContentSpace() {
        int[] counts = new int[3];
        int n = 30_000;
        for (int i = 0; i < n; i++) {
            counts[Split.of("key " + i, 1, 0.1, 0.1).ordinal()]++;
        }
        assertEquals(0.8, counts[Split.TRAIN.ordinal()] / (double) n, 0.01);
        assertEquals(0.1, counts[Split.VALIDATION.ordinal()] / (double) n, 0.01);
        assertEquals(0.1, counts[Split.TEST.ordinal()] / (double) n, 0.01);
        for (int i = 0; i < 100; i++) {
            assertEquals(Split.of("k" + i, 5, 0.1, 0.1), Split.of("k" + i, 5, 0.1, 0.1));
        }
    }

    @Test
    void splitsDrawFromDifferentSeedStreams() {
        for (Family f : Family.values()) {
            int same = 0;
            for (int i = 0; i < 50; i++) {
                if (WORLD.example(Split.VALIDATION, f, i).turns().equals(WORLD.example(Split.TEST, f, i).turns())) {
                    same++;
                }
            }
            assertTrue(same < 10, f.id() + ": validation and test agree on " + same + " of 50 indices");
        }
        assertNotEquals(WORLD.task(Split.TRAIN, Family.OCR, 0).key(), WORLD.task(Split.TEST, Family.OCR, 0).key());
    }

    @Test
    void splitNamesParse() {
        assertEquals(Split.VALIDATION, Split.parse("val"));
        assertEquals(Split.TEST, Split.parse(" Test "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Split.parse("dev"));
        assertTrue(e.getMessage().contains("dev"));
    }
}
