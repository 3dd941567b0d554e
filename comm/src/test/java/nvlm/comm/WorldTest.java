package nvlm.comm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import nvlm.tensor.Tensor;
import org.junit.jupiter.api.Test;

class WorldTest {
    @Test
    void ranksComeFromTheLaunchersVariables() {
        assertEquals(new World(1, 4, "mpirun (Open MPI)"),
                World.fromEnvironment(Map.of("OMPI_COMM_WORLD_RANK", "1", "OMPI_COMM_WORLD_SIZE", "4")).orElseThrow());
        assertEquals(new World(3, 8, "srun (Slurm)"),
                World.fromEnvironment(Map.of("SLURM_PROCID", "3", "SLURM_NTASKS", "8")).orElseThrow());
        assertTrue(World.fromEnvironment(Map.of()).isEmpty());
    }

    @Test
    void aRankOutsideTheWorldIsAnError() {
        var e = assertThrows(CommException.class,
                () -> World.fromEnvironment(Map.of("PMI_RANK", "5", "PMI_SIZE", "2")));
        assertTrue(e.getMessage().contains("PMI_RANK=5"), e.getMessage());
    }

    @Test
    void aSingleProcessCollectiveIsTheIdentity() {
        Communicator one = SingleProcess.INSTANCE;
        Tensor t = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        one.allReduce(t);
        assertEquals(1, one.size());
        assertEquals(java.util.Arrays.toString(new float[] {1, 2, 3, 4}), java.util.Arrays.toString(t.toFloatArray()));
        assertEquals(java.util.Arrays.toString(t.toFloatArray()), java.util.Arrays.toString(one.allGather(t).toFloatArray()));
        assertEquals(java.util.Arrays.toString(t.toFloatArray()), java.util.Arrays.toString(one.reduceScatter(t).toFloatArray()));
    }
}
