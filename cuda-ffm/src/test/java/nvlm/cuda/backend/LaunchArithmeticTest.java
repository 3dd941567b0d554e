package nvlm.cuda.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import nvlm.cuda.backend.kernels.IndexedRows;
import nvlm.cuda.backend.kernels.Launches;
import nvlm.cuda.backend.kernels.Reductions;
import nvlm.kernels.DType;
import nvlm.kernels.hat.LaunchConfig;
import nvlm.tensor.UnaryOp;
import org.junit.jupiter.api.Test;

/** The pure arithmetic behind the backend's launches and kernel choices. */
class LaunchArithmeticTest {

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
    void chunkedReductionsCoverTheAxis() {
        qt().forAll(longs().between(1, 1L << 30)).checkAssert(axis -> {
            long chunks = Reductions.chunks(axis);
            assertTrue(chunks * Reductions.CHUNK >= axis && (chunks - 1) * Reductions.CHUNK < axis);
        });
    }

    @Test
    void sumOfSquaresPartialsAreBounded() {
        assertEquals(1, Reductions.squaresGrid(1).gridX());
        assertEquals(64, Reductions.squaresGrid(1L << 30).gridX());
        assertEquals(2, Reductions.squaresGrid(257).gridX());
    }

    @Test
    void scatterAddIsDeterministicUpToTheIdReadBudget() {
        assertTrue(IndexedRows.deterministic(4096, 320));
        assertTrue(IndexedRows.deterministic(1 << 13, 1 << 13));
        assertTrue(!IndexedRows.deterministic(1 << 20, 152064));
    }

    @Test
    void everyUnaryOpHasAKernel() {
        for (UnaryOp op : UnaryOp.values()) {
            int library = CudaBackend.libraryUnary(op);
            boolean own = op == UnaryOp.RECIPROCAL || op == UnaryOp.SIN || op == UnaryOp.COS;
            assertEquals(own, library < 0, op.toString());
        }
    }

    @Test
    void gemmInputsFollowThePrecisionMode() {
        assertEquals(DType.BF16, CudaBackend.gemmInput(DType.F32, DType.F32, MatmulPrecision.BF16));
        assertEquals(DType.F32, CudaBackend.gemmInput(DType.F32, DType.F32, MatmulPrecision.TF32));
        assertEquals(DType.F32, CudaBackend.gemmInput(DType.F32, DType.F32, MatmulPrecision.F32));
        assertEquals(DType.BF16, CudaBackend.gemmInput(DType.BF16, DType.BF16, MatmulPrecision.F32));
        assertEquals(DType.F16, CudaBackend.gemmInput(DType.F16, DType.F16, MatmulPrecision.BF16));
        assertEquals(DType.F32, CudaBackend.gemmInput(DType.BF16, DType.F32, MatmulPrecision.F32));
        assertEquals(MatmulPrecision.TF32, MatmulPrecision.parse(" TF32 "));
    }
}
