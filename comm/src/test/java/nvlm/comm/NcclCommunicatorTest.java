package nvlm.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import nvlm.comm.bindings.nccl_h;
import nvlm.comm.bindings.ncclUniqueId;
import nvlm.cuda.runtime.CudaLibraries;
import nvlm.cuda.runtime.CudaLibrary;
import nvlm.cuda.runtime.CudaLibraryNotFoundException;
import nvlm.tensor.Device;
import nvlm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The NCCL path. Here (no GPU, no NCCL) only what holds without them is checked; the collectives
 * run where NCCL and a GPU are present (one rank: NCCL cannot put two ranks on one GPU).
 */
class NcclCommunicatorTest {
    @Test
    void theBindingsLoadWithoutNcclAndKeepTheHeadersLayout() {
        assertEquals(128, nccl_h.NCCL_UNIQUE_ID_BYTES());
        assertEquals(128, ncclUniqueId.layout().byteSize());
        assertEquals(7, nccl_h.ncclFloat32());
        assertEquals(0, nccl_h.ncclSum());
    }

    @Test
    void withoutNcclTheFirstCallNamesTheLibraryAndWhereItWasSought() {
        assumeTrue(NcclCommunicator.unavailableReason().isPresent(), "NCCL is installed here: nothing to check");
        var e = assertThrows(CudaLibraryNotFoundException.class, NcclCommunicator::version);
        assertTrue(e.getMessage().contains("libnccl.so.2"), e.getMessage());
        assertTrue(e.getMessage().contains("nvidia/nccl/lib"), e.getMessage());
    }

    @Test
    void oneRankCollectivesOnTheGpu() {
        assumeTrue(NcclCommunicator.unavailableReason().isEmpty(), "no NCCL (libnccl.so.2) here: "
                + NcclCommunicator.unavailableReason().orElse(""));
        assumeTrue(CudaLibraries.isAvailable(CudaLibrary.DRIVER), "no CUDA driver here");
        try (NcclCommunicator nccl = NcclCommunicator.oneRank()) {
            Tensor t = Tensor.of(new float[] {1, 2, 3, 4}, 4).to(Device.CUDA);
            nccl.allReduce(t);
            assertArrayEquals(new float[] {1, 2, 3, 4}, t.toFloatArray());
            assertArrayEquals(new float[] {1, 2, 3, 4}, nccl.allGather(t).toFloatArray());
            assertArrayEquals(new float[] {1, 2, 3, 4}, nccl.reduceScatter(t).toFloatArray());
            nccl.broadcast(t, 0);
            assertArrayEquals(new float[] {1, 2, 3, 4}, t.toFloatArray());
            var e = assertThrows(IllegalArgumentException.class, () -> nccl.allReduce(Tensor.zeros(2)));
            assertTrue(e.getMessage().contains("CUDA tensors"), e.getMessage());
        }
    }
}
