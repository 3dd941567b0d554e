package nvlm.cuda.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

import static nvlm.cuda.bindings.cuda_h.C_INT;
import static nvlm.cuda.bindings.cuda_h.cuDeviceGetCount;
import static nvlm.cuda.bindings.cuda_h.cuDriverGetVersion;
import static nvlm.cuda.bindings.cuda_h.cuInit;

/** Process-wide CUDA state: driver initialisation (once) and whether a usable GPU exists. */
public final class Cuda {
    private static boolean initialized;
    private static String unavailable;

    private Cuda() {
    }

    /** Loads libcuda and calls cuInit(0) once; throws when there is no driver or no device. */
    public static synchronized void init() {
        if (initialized) {
            return;
        }
        CudaLibraries.require(CudaLibrary.DRIVER);
        CudaDriverException.check(cuInit(0), "cuInit(0)");
        initialized = true;
    }

    /** True when the driver loads, initialises and reports at least one device. */
    public static boolean isAvailable() {
        return unavailableReason().isEmpty();
    }

    /** Why CUDA cannot be used here (no libcuda found with the places searched, no device, ...), or empty. */
    public static synchronized Optional<String> unavailableReason() {
        if (unavailable == null) {
            try {
                init();
                unavailable = deviceCount() > 0 ? "" : "the CUDA driver reports no devices";
            } catch (CudaLibraryNotFoundException e) {
                unavailable = e.getMessage();
            } catch (CudaException e) {
                unavailable = e.getMessage();
            }
        }
        return unavailable.isEmpty() ? Optional.empty() : Optional.of(unavailable);
    }

    /** The driver's CUDA version, e.g. 13000 for 13.0. */
    public static int driverVersion() {
        init();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment version = arena.allocate(C_INT);
            CudaDriverException.check(cuDriverGetVersion(version), "cuDriverGetVersion");
            return version.get(C_INT, 0);
        }
    }

    public static int deviceCount() {
        init();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(C_INT);
            CudaDriverException.check(cuDeviceGetCount(count), "cuDeviceGetCount");
            return count.get(C_INT, 0);
        }
    }
}
