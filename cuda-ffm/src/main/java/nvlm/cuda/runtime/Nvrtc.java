package nvlm.cuda.runtime;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static nvlm.cuda.bindings.nvrtc_h.*;

/**
 * Runtime compilation of CUDA C++ with NVRTC. {@link #compile} turns source into a CUBIN (for a
 * real architecture {@code -arch=sm_XY}) or PTX (for a virtual one, {@code compute_XY}, which the
 * driver then JIT-compiles). {@link #image} adds the device's {@link Target} and a disk cache.
 * Kernels are declared {@code extern "C"} so their names are not mangled.
 */
public final class Nvrtc {
    private static int[] version;
    private static int[] supportedArchs;

    private Nvrtc() {
    }

    /** A compiled image: CUBIN (ELF) or NUL-terminated PTX, and the compiler log (warnings). */
    public record Output(byte[] image, boolean cubin, String log) {
    }

    /** What a device's kernels are compiled with: the {@code -arch} value, the options and NVRTC's version. */
    public record Target(String arch, List<String> options, String nvrtcVersion) {
    }

    /** The target for {@code device}: its own {@code sm_XY} where NVRTC supports it (see {@link #target(int, int[])}). */
    public static Target target(CudaDevice device) {
        int cc = 10 * device.computeCapabilityMajor() + device.computeCapabilityMinor();
        String arch = target(cc, supportedArchs());
        int[] v = version();
        return new Target(arch, options(arch, List.of()), v[0] + "." + v[1]);
    }

    /** {major, minor} of the loaded NVRTC. */
    public static synchronized int[] version() {
        CudaLibraries.require(CudaLibrary.NVRTC);
        if (version == null) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment major = arena.allocate(C_INT);
                MemorySegment minor = arena.allocate(C_INT);
                check(nvrtcVersion(major, minor), "nvrtcVersion", null);
                version = new int[] {major.get(C_INT, 0), minor.get(C_INT, 0)};
            }
        }
        return version.clone();
    }

    /** Compute capabilities NVRTC can compile for, as 10*major+minor (e.g. 90), ascending. */
    public static synchronized int[] supportedArchs() {
        CudaLibraries.require(CudaLibrary.NVRTC);
        if (supportedArchs == null) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment count = arena.allocate(C_INT);
                check(nvrtcGetNumSupportedArchs(count), "nvrtcGetNumSupportedArchs", null);
                MemorySegment archs = arena.allocate(C_INT, Math.max(1, count.get(C_INT, 0)));
                check(nvrtcGetSupportedArchs(archs), "nvrtcGetSupportedArchs", null);
                supportedArchs = Arrays.stream(archs.toArray(C_INT)).limit(count.get(C_INT, 0)).sorted().toArray();
            }
        }
        return supportedArchs.clone();
    }

    /**
     * The {@code -arch} value for a device of compute capability {@code cc} (10*major+minor):
     * {@code sm_cc} (a CUBIN, no driver JIT) when NVRTC supports it, else PTX for the newest
     * supported {@code compute_XY} not above the device, which the driver JIT-compiles forward.
     */
    public static String target(int cc, int[] supported) {
        int best = -1;
        for (int arch : supported) {
            if (arch == cc) {
                return "sm_" + cc;
            }
            if (arch < cc) {
                best = Math.max(best, arch);
            }
        }
        if (best < 0) {
            throw new IllegalArgumentException("NVRTC supports none of compute capability <= " + cc + ": "
                    + Arrays.toString(supported));
        }
        return "compute_" + best;
    }

    /** The compile options for an architecture: -arch, C++17; extra options follow. */
    public static List<String> options(String arch, List<String> extra) {
        var options = new ArrayList<String>();
        options.add("--gpu-architecture=" + arch);
        options.add("--std=c++17");
        options.addAll(extra);
        return options;
    }

    /** Compiles {@code source} (program name {@code name}, used in diagnostics) with the given options. */
    public static Output compile(String source, String name, List<String> options) {
        CudaLibraries.require(CudaLibrary.NVRTC);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment program = arena.allocate(C_POINTER);
            check(nvrtcCreateProgram(program, arena.allocateFrom(source), arena.allocateFrom(name), 0,
                    MemorySegment.NULL, MemorySegment.NULL), "nvrtcCreateProgram(" + name + ")", null);
            MemorySegment handle = program.get(C_POINTER, 0);
            try {
                MemorySegment optionArray = arena.allocate(C_POINTER, Math.max(1, options.size()));
                for (int i = 0; i < options.size(); i++) {
                    optionArray.setAtIndex(C_POINTER, i, arena.allocateFrom(options.get(i)));
                }
                int compiled = nvrtcCompileProgram(handle, options.size(), optionArray);
                String log = log(arena, handle);
                check(compiled, "nvrtcCompileProgram(" + name + ", " + options + ")", log);
                MemorySegment size = arena.allocate(C_LONG);
                check(nvrtcGetCUBINSize(handle, size), "nvrtcGetCUBINSize(" + name + ")", null);
                // CUBIN size is 0 when -arch is virtual (REFERENCE.md section 3): then the output is PTX.
                boolean cubin = size.get(C_LONG, 0) > 0;
                if (!cubin) {
                    check(nvrtcGetPTXSize(handle, size), "nvrtcGetPTXSize(" + name + ")", null);
                }
                MemorySegment image = arena.allocate(size.get(C_LONG, 0));
                check(cubin ? nvrtcGetCUBIN(handle, image) : nvrtcGetPTX(handle, image),
                        (cubin ? "nvrtcGetCUBIN(" : "nvrtcGetPTX(") + name + ")", null);
                return new Output(image.toArray(C_CHAR), cubin, log);
            } finally {
                nvrtcDestroyProgram(program);
            }
        }
    }

    /**
     * The image of {@code source} for {@code target}: from {@code cache} when an entry exists
     * (the key covers source, options, NVRTC version and architecture), else compiled and stored.
     * A cache that cannot be written costs a recompile next time, nothing more.
     */
    public static byte[] image(String source, String name, Target target, KernelCache cache) {
        String key = KernelCache.key(source, target.options(), target.nvrtcVersion(), target.arch());
        Optional<byte[]> cached = cache.load(key);
        if (cached.isPresent()) {
            return cached.get();
        }
        Output output = compile(source, name, target.options());
        try {
            cache.store(key, output.image());
        } catch (IOException e) {
            System.err.println("nvlm: kernel cache not written (compiling again next time): " + e.getMessage());
        }
        return output.image();
    }

    private static String log(Arena arena, MemorySegment program) {
        MemorySegment size = arena.allocate(C_LONG);
        if (nvrtcGetProgramLogSize(program, size) != NVRTC_SUCCESS() || size.get(C_LONG, 0) <= 1) {
            return "";
        }
        MemorySegment log = arena.allocate(size.get(C_LONG, 0));
        return nvrtcGetProgramLog(program, log) == NVRTC_SUCCESS() ? log.getString(0) : "";
    }

    private static void check(int result, String call, String log) {
        if (result != NVRTC_SUCCESS()) {
            MemorySegment text = nvrtcGetErrorString(result);
            String message = text.equals(MemorySegment.NULL) ? "unknown nvrtcResult" : text.getString(0);
            if (result == NVRTC_ERROR_BUILTIN_OPERATION_FAILURE()) {
                message += " (is libnvrtc-builtins beside libnvrtc? REFERENCE.md section 1)";
            }
            throw new NvrtcException(call, result, message, log);
        }
    }
}
