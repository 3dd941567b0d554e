package nvlm.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LengthBucketSamplerTest {
    private static int[] randomLengths(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) {
            lengths[i] = 20 + rng.nextInt(300);
        }
        return lengths;
    }

    @Test
    void everyExampleAppearsExactlyOncePerEpoch() {
        qt().withExamples(200).forAll(integers().between(1, 500), integers().between(1, 17), integers().between(1, 9),
                longs().between(0, 1000)).checkAssert((n, batch, pool, epoch) -> {
                    LengthBucketSampler s = new LengthBucketSampler(randomLengths(n, n * 31L + batch), batch, pool, 7);
                    List<int[]> batches = s.epoch(epoch);
                    int[] seen = new int[n];
                    for (int[] b : batches) {
                        assertTrue(b.length >= 1 && b.length <= batch, "batch of " + b.length);
                        for (int i : b) {
                            seen[i]++;
                        }
                    }
                    for (int i = 0; i < n; i++) {
                        assertEquals(1, seen[i], "example " + i + " in epoch " + epoch);
                    }
                    assertEquals(s.batchesPerEpoch(), batches.size());
                });
    }

    @Test
    void batchesAreDeterministicPerSeedAndEpochAndChangeBetweenEpochs() {
        int[] lengths = randomLengths(300, 1);
        LengthBucketSampler a = new LengthBucketSampler(lengths, 8, 16, 42);
        LengthBucketSampler b = new LengthBucketSampler(lengths, 8, 16, 42);
        for (int epoch = 0; epoch < 3; epoch++) {
            List<int[]> x = a.epoch(epoch);
            List<int[]> y = b.epoch(epoch);
            assertEquals(x.size(), y.size());
            for (int i = 0; i < x.size(); i++) {
                assertArrayEquals(x.get(i), y.get(i));
            }
        }
        assertFalse(java.util.Arrays.equals(a.epoch(0).getFirst(), a.epoch(1).getFirst()), "epochs 0 and 1 start alike");
        assertFalse(java.util.Arrays.equals(a.epoch(0).getFirst(), new LengthBucketSampler(lengths, 8, 16, 43).epoch(0).getFirst()));
    }

    @Test
    void bucketingCutsPadding() {
        int[] lengths = randomLengths(2000, 3);
        long plain = 0;
        long bucketed = 0;
        for (int epoch = 0; epoch < 3; epoch++) {
            LengthBucketSampler p = new LengthBucketSampler(lengths, 16, 1, 5);
            LengthBucketSampler b = new LengthBucketSampler(lengths, 16, 32, 5);
            plain += p.paddingTokens(p.epoch(epoch));
            bucketed += b.paddingTokens(b.epoch(epoch));
        }
        assertTrue(bucketed * 5 < plain, "padding with bucketing " + bucketed + " vs without " + plain);
    }
}
