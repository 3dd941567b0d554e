package nvlm.tensor.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class InitTest {
    @Test
    void skippedInitialisationDrawsNothingAndEndsWithTheCall() {
        SplittableRandom rng = new SplittableRandom(3);
        long before = new SplittableRandom(3).nextLong();
        float[] zeros = Init.skipped(() -> Init.uniform(rng, 1.0, 4, 5).toFloatArray());
        assertArrayEquals(new float[20], zeros);
        assertEquals(before, rng.nextLong(), "the generator was not advanced");
        float[] drawn = Init.normal(new SplittableRandom(3), 1.0, 3).toFloatArray();
        assertNotEquals(0f, drawn[0], "outside skipped() values are drawn again");
    }

    @Test
    void sameSeedSameValues() {
        assertArrayEquals(Init.uniform(new SplittableRandom(9), 0.5, 7).toFloatArray(),
                Init.uniform(new SplittableRandom(9), 0.5, 7).toFloatArray());
    }
}
