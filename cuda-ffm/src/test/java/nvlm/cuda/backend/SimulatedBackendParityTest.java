package nvlm.cuda.backend;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every Backend method of the CUDA backend, run on the simulated device (the backend's real
 * dispatch, argument marshalling, launch configurations and kernels, executed by the CPU executor,
 * and its cuBLAS calls through the column-major model), against the CPU backend on random inputs:
 * the same {@link BackendParity} checks the device check runs on the GPU.
 */
class SimulatedBackendParityTest {
    private static final long[] SEEDS = {1, 2, 3};

    @TestFactory
    Stream<DynamicTest> everyBackendOperationMatchesTheCpuBackend() {
        List<DynamicTest> tests = new ArrayList<>();
        for (long seed : SEEDS) {
            BackendParity parity = new BackendParity(seed, BackendParity.Scale.SMALL);
            for (Map.Entry<String, Supplier<BackendParity.Result>> check : parity.checks().entrySet()) {
                tests.add(dynamicTest(check.getKey() + " (seed " + seed + ")", () -> {
                    try (AutoCloseable device = CudaBackend.simulate()) {
                        BackendParity.Result result = parity.run(check.getKey(), check.getValue());
                        assertTrue(result.passed(), result.line());
                    }
                }));
            }
        }
        return tests.stream();
    }
}
