package nvlm.cuda.backend;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import nvlm.cuda.runtime.Cuda;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every Backend method on a real GPU against the CPU backend (the checks the device check runs).
 * Where CUDA is unavailable each test skips with the reason (the places searched for libcuda).
 */
class CudaBackendGpuTest {

    @TestFactory
    Stream<DynamicTest> everyBackendOperationMatchesTheCpuBackendOnTheGpu() {
        List<DynamicTest> tests = new ArrayList<>();
        BackendParity parity = new BackendParity(System.nanoTime(), BackendParity.Scale.LARGE);
        parity.checks().forEach((name, check) -> tests.add(dynamicTest(name, () -> {
            assumeTrue(Cuda.isAvailable(), () -> "CUDA unavailable: " + Cuda.unavailableReason().orElse("?"));
            BackendParity.Result result = parity.run(name, check);
            assertTrue(result.passed(), result.line());
        })));
        return tests.stream();
    }
}
