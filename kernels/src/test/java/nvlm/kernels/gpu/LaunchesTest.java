package nvlm.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import nvlm.kernels.translator.LaunchConfig;
import org.junit.jupiter.api.Test;

/** The pure arithmetic behind the kernels' launch grids. */
class LaunchesTest {

    @Test
    void gridStrideLaunchesGiveEveryElementAThreadUpToTheBlockCap() {
        qt().forAll(longs().between(0, 1L << 40)).checkAssert(n -> {
            LaunchConfig c = Launches.elementwise(n);
            assertEquals(Launches.THREADS, c.threadsPerBlock());
            assertTrue(c.gridX() >= 1 && c.gridX() <= Launches.MAX_BLOCKS);
            // Either one thread per element, or the cap (grid-stride loops cover the rest).
            assertTrue((long) c.gridX() * c.threadsPerBlock() >= n || c.gridX() == Launches.MAX_BLOCKS);
        });
    }

    @Test
    void rowLaunchesGiveEveryRowABlockUpToTheGridLimit() {
        assertEquals(1, Launches.perRow(0).gridX());
        assertEquals(1000, Launches.perRow(1000).gridX());
        assertEquals(Integer.MAX_VALUE, Launches.perRow(1L << 40).gridX());
        assertEquals(Launches.THREADS, Launches.perRow(5).threadsPerBlock());
    }
}
