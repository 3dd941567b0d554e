package nvlm.comm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MpiCommunicatorTest {
    @Test
    void everyCollectiveOnTwoRanksMatchesTheNaiveReference() throws Exception {
        MpiRanks.Result r = MpiRanks.run(2, CollectivesCheck.class.getName(), List.of(), 120);
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("ok rank 0 of 2") && r.output().contains("ok rank 1 of 2"), r.output());
    }

    @Test
    void oneRankAbortingEndsTheOtherWaitingInACollective() throws Exception {
        MpiRanks.Result r = MpiRanks.run(2, AbortCheck.class.getName(), List.of(), 60);
        assertEquals(3, r.exitCode(), r.output());
        assertTrue(r.output().contains("rank 1 of 2 failed"), r.output());
        assertTrue(!r.output().contains("left the all-reduce"), r.output());
        assertTrue(r.seconds() < 60, r.seconds() + " s");
    }

    @Test
    void theLibraryIsOpenMpi() {
        MpiRanks.requireMpi();
        assertTrue(MpiCommunicator.libraryVersion().startsWith("Open MPI"), MpiCommunicator.libraryVersion());
    }
}
