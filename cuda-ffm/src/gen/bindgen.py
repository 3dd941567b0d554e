#!/usr/bin/env python3
"""Writes the jextract-layout binding classes of package nvlm.cuda.bindings.

jextract itself is not available where this project builds, so this script plays its part: it
reads the C declarations in the tables below and writes one header class per C header, in the
shape jextract 22 gives (a holder class per function that looks its symbol up lazily, and
`name`, `name$handle()`, `name$descriptor()`, `name$address()`; constants as static methods).

The declarations were copied from the headers (REFERENCE.md sections 1-5): the driver ones from
/usr/local/cuda/include/cuda.h (CUDA 13.0) after gcc -E, so every macro-renamed function appears
under its versioned symbol (cuMemAlloc_v2, never the old-ABI cuMemAlloc). HeaderSignatureTest
compiles the generated descriptors and constants against the real headers wherever they exist.

Run from the repository root:  python3 cuda-ffm/src/gen/bindgen.py
"""
import os
import re

OUT = os.path.join(os.path.dirname(__file__), "..", "main", "java", "nvlm", "cuda", "bindings")

# C type -> jextract layout constant. Every pointer (and array parameter) is C_POINTER.
LAYOUTS = {
    "void": None,
    "int": "C_INT", "unsigned int": "C_INT",
    "unsigned char": "C_CHAR",
    "float": "C_FLOAT",
    "size_t": "C_LONG",
    "unsigned long long": "C_LONG_LONG", "long long int": "C_LONG_LONG",
    "uint64_t": "C_LONG_LONG", "int64_t": "C_LONG_LONG",
    # driver typedefs
    "CUresult": "C_INT", "CUdevice": "C_INT", "CUdeviceptr": "C_LONG_LONG",
    "CUdevice_attribute": "C_INT", "CUfunction_attribute": "C_INT", "CUstreamCaptureMode": "C_INT",
    "CUcontext": "C_POINTER", "CUstream": "C_POINTER", "CUevent": "C_POINTER",
    "CUmodule": "C_POINTER", "CUfunction": "C_POINTER", "CUgraph": "C_POINTER",
    "CUgraphExec": "C_POINTER", "CUoccupancyB2DSize": "C_POINTER",
    # nvrtc
    "nvrtcResult": "C_INT", "nvrtcProgram": "C_POINTER",
    # cublas / cublasLt
    "cublasStatus_t": "C_INT", "cublasOperation_t": "C_INT", "cudaDataType": "C_INT",
    "cudaDataType_t": "C_INT", "cublasComputeType_t": "C_INT", "cublasGemmAlgo_t": "C_INT",
    "cublasMath_t": "C_INT", "cublasPointerMode_t": "C_INT",
    "cublasLtMatmulDescAttributes_t": "C_INT", "cublasLtMatrixLayoutAttribute_t": "C_INT",
    "cublasLtMatmulPreferenceAttributes_t": "C_INT",
    "cublasHandle_t": "C_POINTER", "cudaStream_t": "C_POINTER", "cublasLtHandle_t": "C_POINTER",
    "cublasLtMatmulDesc_t": "C_POINTER", "cublasLtMatrixLayout_t": "C_POINTER",
    "cublasLtMatmulPreference_t": "C_POINTER",
}
JAVA_TYPES = {"C_INT": "int", "C_LONG": "long", "C_LONG_LONG": "long", "C_CHAR": "byte",
              "C_FLOAT": "float", "C_POINTER": "MemorySegment", None: "void"}


def layout_of(ctype):
    """The layout of a C type written as in a declaration ('const char *', 'CUdevice')."""
    if "*" in ctype or "[]" in ctype:
        return "C_POINTER"
    base = " ".join(t for t in ctype.split() if t != "const")
    if base not in LAYOUTS:
        raise SystemExit(f"bindgen: no layout for C type '{ctype}'")
    return LAYOUTS[base]


def parse(declaration):
    """'CUresult cuInit(unsigned int Flags)' -> (name, return layout, [(param, layout)], text)."""
    text = " ".join(declaration.split())
    m = re.fullmatch(r"(.+?[\s*])(\w+)\s*\((.*)\)", text)
    if not m:
        raise SystemExit(f"bindgen: cannot parse '{declaration}'")
    ret, name, params = m.group(1).strip(), m.group(2), m.group(3).strip()
    out = []
    if params not in ("", "void"):
        for p in params.split(","):
            p = p.strip()
            pm = re.fullmatch(r"(.*?)(\w+)\s*(\[\])?", p)
            ptype, pname = pm.group(1).strip() + (" *" if pm.group(3) else ""), pm.group(2)
            out.append((pname, layout_of(ptype)))
    return name, layout_of(ret), out, text


class Header:
    def __init__(self, cls, header, library, doc, functions, constants, pointer_constants=()):
        self.cls, self.header, self.library, self.doc = cls, header, library, doc
        self.functions = [parse(d) for d in functions.strip().split(";") if d.strip()]
        self.constants = constants            # [(C enum or '#define', [(NAME, value)])]
        self.pointer_constants = pointer_constants  # [(NAME, address, C text)]


def function_code(h, name, ret, params, text):
    desc_args = ([ret] if ret else []) + [l for _, l in params]
    desc = (f"FunctionDescriptor.of(\n            " if ret else "FunctionDescriptor.ofVoid(\n            ") + \
        ",\n            ".join(desc_args) + "\n    )"
    if not desc_args:
        desc = "FunctionDescriptor.ofVoid()"
    jret = JAVA_TYPES[ret]
    jparams = ", ".join(f"{JAVA_TYPES[l]} {n}" for n, l in params)
    args = ", ".join(n for n, _ in params)
    call = f"mh$.invokeExact({args})"
    body = f"{call};" if jret == "void" else f"return ({jret}) {call};"
    return f"""
    private static final FunctionDescriptor {name}$DESC = {desc};

    private static class {name} {{
        public static final MemorySegment ADDR = {h.cls}.findOrThrow("{name}");

        public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, {name}$DESC);
    }}

    /**
     * Function descriptor for:
     * {{@snippet lang=c :
     * {text}
     * }}
     */
    public static FunctionDescriptor {name}$descriptor() {{
        return {name}$DESC;
    }}

    /**
     * Downcall method handle for:
     * {{@snippet lang=c :
     * {text}
     * }}
     */
    public static MethodHandle {name}$handle() {{
        requireLibrary();
        return {name}.HANDLE;
    }}

    /**
     * Address for:
     * {{@snippet lang=c :
     * {text}
     * }}
     */
    public static MemorySegment {name}$address() {{
        requireLibrary();
        return {name}.ADDR;
    }}

    /**
     * {{@snippet lang=c :
     * {text}
     * }}
     */
    public static {jret} {name}({jparams}) {{
        var mh$ = {name}$handle();
        try {{
            if (TRACE_DOWNCALLS) {{
                traceDowncall("{name}"{", " + args if args else ""});
            }}
            {body}
        }} catch (Error | RuntimeException ex$) {{
            throw ex$;
        }} catch (Throwable ex$) {{
            throw new AssertionError("should not reach here", ex$);
        }}
    }}
"""


def constant_code(enum, name, value):
    jtype = "long" if abs(value) > 0x7fffffff else "int"
    c = f"{enum}.{name} = {value}" if enum != "#define" else f"#define {name} {value}"
    return f"""
    private static final {jtype} {name} = ({jtype}) {value}L;

    /**
     * {{@snippet lang=c :
     * {c}
     * }}
     */
    public static {jtype} {name}() {{
        return {name};
    }}
"""


def pointer_constant_code(name, address, text):
    return f"""
    private static final MemorySegment {name} = MemorySegment.ofAddress({address}L);

    /**
     * {{@snippet lang=c :
     * {text}
     * }}
     */
    public static MemorySegment {name}() {{
        return {name};
    }}
"""


def header_code(h):
    parts = [f"""// Generated by cuda-ffm/src/gen/bindgen.py in the layout of jextract; do not edit.

package nvlm.cuda.bindings;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * {h.doc}
 *
 * <p>Symbols resolve on first use through {{@link CudaLibraries}} ({{@link CudaLibrary#{h.library}}}):
 * the class loads without the library, and a call without it throws
 * {{@link CudaLibraryNotFoundException}} listing every place searched.
 */
@SuppressWarnings("unused")
public class {h.cls} {{

    {h.cls}() {{
        // Should not be called directly
    }}

    static final CudaLibrary LIBRARY = CudaLibrary.{h.library};
    static final boolean TRACE_DOWNCALLS = Boolean.getBoolean("jextract.trace.downcalls");

    static final SymbolLookup SYMBOL_LOOKUP = name -> CudaLibraries.lookup(LIBRARY).find(name);

    static void traceDowncall(String name, Object... args) {{
        String traceArgs = Arrays.stream(args)
                .map(Object::toString)
                .collect(Collectors.joining(", "));
        System.out.printf("%s(%s)\\n", name, traceArgs);
    }}

    /** Loads the library (once) or throws {{@link CudaLibraryNotFoundException}}. */
    static void requireLibrary() {{
        CudaLibraries.lookup(LIBRARY);
    }}

    static MemorySegment findOrThrow(String symbol) {{
        return SYMBOL_LOOKUP.find(symbol)
                .orElseThrow(() -> new UnsatisfiedLinkError("unresolved symbol: " + symbol + " in "
                        + CudaLibraries.location(LIBRARY).map(Object::toString).orElse(LIBRARY.description())));
    }}

    public static final ValueLayout.OfByte C_CHAR = ValueLayout.JAVA_BYTE;
    public static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
    public static final ValueLayout.OfFloat C_FLOAT = ValueLayout.JAVA_FLOAT;
    public static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;
    public static final ValueLayout.OfLong C_LONG_LONG = ValueLayout.JAVA_LONG;
    public static final AddressLayout C_POINTER = ValueLayout.ADDRESS
            .withTargetLayout(MemoryLayout.sequenceLayout(Long.MAX_VALUE, ValueLayout.JAVA_BYTE));
"""]
    for enum, values in h.constants:
        for name, value in values:
            parts.append(constant_code(enum, name, value))
    for name, address, text in h.pointer_constants:
        parts.append(pointer_constant_code(name, address, text))
    for f in h.functions:
        parts.append(function_code(h, *f))
    parts.append("}\n")
    return "".join(parts)


DRIVER = Header(
    "cuda_h", "cuda.h", "DRIVER",
    "Bindings for {@code cuda.h}, the CUDA driver API ({@code libcuda.so.1}); functions renamed by the\n"
    " * header's macros are bound under their versioned symbols (REFERENCE.md section 1).",
    """
CUresult cuGetErrorName(CUresult error, const char **pStr);
CUresult cuGetErrorString(CUresult error, const char **pStr);
CUresult cuInit(unsigned int Flags);
CUresult cuDriverGetVersion(int *driverVersion);
CUresult cuDeviceGetCount(int *count);
CUresult cuDeviceGet(CUdevice *device, int ordinal);
CUresult cuDeviceGetName(char *name, int len, CUdevice dev);
CUresult cuDeviceGetAttribute(int *pi, CUdevice_attribute attrib, CUdevice dev);
CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev);
CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev);
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev);
CUresult cuCtxSetCurrent(CUcontext ctx);
CUresult cuCtxGetCurrent(CUcontext *pctx);
CUresult cuCtxGetDevice(CUdevice *device);
CUresult cuCtxSynchronize(void);
CUresult cuMemGetInfo_v2(size_t *free, size_t *total);
CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize);
CUresult cuMemFree_v2(CUdeviceptr dptr);
CUresult cuMemAllocAsync(CUdeviceptr *dptr, size_t bytesize, CUstream hStream);
CUresult cuMemFreeAsync(CUdeviceptr dptr, CUstream hStream);
CUresult cuMemHostAlloc(void **pp, size_t bytesize, unsigned int Flags);
CUresult cuMemFreeHost(void *p);
CUresult cuMemcpyHtoD_v2(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount);
CUresult cuMemcpyDtoH_v2(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount);
CUresult cuMemcpyDtoD_v2(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount);
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount, CUstream hStream);
CUresult cuMemcpyDtoHAsync_v2(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream);
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream);
CUresult cuMemsetD8_v2(CUdeviceptr dstDevice, unsigned char uc, size_t N);
CUresult cuMemsetD32_v2(CUdeviceptr dstDevice, unsigned int ui, size_t N);
CUresult cuMemsetD8Async(CUdeviceptr dstDevice, unsigned char uc, size_t N, CUstream hStream);
CUresult cuMemsetD32Async(CUdeviceptr dstDevice, unsigned int ui, size_t N, CUstream hStream);
CUresult cuStreamCreate(CUstream *phStream, unsigned int Flags);
CUresult cuStreamDestroy_v2(CUstream hStream);
CUresult cuStreamSynchronize(CUstream hStream);
CUresult cuStreamQuery(CUstream hStream);
CUresult cuStreamWaitEvent(CUstream hStream, CUevent hEvent, unsigned int Flags);
CUresult cuStreamIsCapturing(CUstream hStream, CUstreamCaptureStatus *captureStatus);
CUresult cuEventCreate(CUevent *phEvent, unsigned int Flags);
CUresult cuEventRecord(CUevent hEvent, CUstream hStream);
CUresult cuEventQuery(CUevent hEvent);
CUresult cuEventSynchronize(CUevent hEvent);
CUresult cuEventElapsedTime_v2(float *pMilliseconds, CUevent hStart, CUevent hEnd);
CUresult cuEventDestroy_v2(CUevent hEvent);
CUresult cuModuleLoadData(CUmodule *module, const void *image);
CUresult cuModuleLoadDataEx(CUmodule *module, const void *image, unsigned int numOptions, CUjit_option *options, void **optionValues);
CUresult cuModuleGetFunction(CUfunction *hfunc, CUmodule hmod, const char *name);
CUresult cuModuleUnload(CUmodule hmod);
CUresult cuFuncSetAttribute(CUfunction hfunc, CUfunction_attribute attrib, int value);
CUresult cuFuncGetAttribute(int *pi, CUfunction_attribute attrib, CUfunction hfunc);
CUresult cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ, unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ, unsigned int sharedMemBytes, CUstream hStream, void **kernelParams, void **extra);
CUresult cuOccupancyMaxPotentialBlockSize(int *minGridSize, int *blockSize, CUfunction func, CUoccupancyB2DSize blockSizeToDynamicSMemSize, size_t dynamicSMemSize, int blockSizeLimit);
CUresult cuStreamBeginCapture_v2(CUstream hStream, CUstreamCaptureMode mode);
CUresult cuStreamEndCapture(CUstream hStream, CUgraph *phGraph);
CUresult cuGraphInstantiateWithFlags(CUgraphExec *phGraphExec, CUgraph hGraph, unsigned long long flags);
CUresult cuGraphLaunch(CUgraphExec hGraphExec, CUstream hStream);
CUresult cuGraphExecDestroy(CUgraphExec hGraphExec);
CUresult cuGraphDestroy(CUgraph hGraph);
""",
    [
        ("#define", [("CUDA_VERSION", 13000)]),
        ("enum cudaError_enum", [
            ("CUDA_SUCCESS", 0), ("CUDA_ERROR_INVALID_VALUE", 1), ("CUDA_ERROR_OUT_OF_MEMORY", 2),
            ("CUDA_ERROR_NOT_INITIALIZED", 3), ("CUDA_ERROR_DEINITIALIZED", 4),
            ("CUDA_ERROR_STUB_LIBRARY", 34), ("CUDA_ERROR_NO_DEVICE", 100),
            ("CUDA_ERROR_INVALID_DEVICE", 101), ("CUDA_ERROR_INVALID_IMAGE", 200),
            ("CUDA_ERROR_INVALID_CONTEXT", 201), ("CUDA_ERROR_NO_BINARY_FOR_GPU", 209),
            ("CUDA_ERROR_INVALID_PTX", 218), ("CUDA_ERROR_UNSUPPORTED_PTX_VERSION", 222),
            ("CUDA_ERROR_INVALID_SOURCE", 300), ("CUDA_ERROR_FILE_NOT_FOUND", 301),
            ("CUDA_ERROR_INVALID_HANDLE", 400), ("CUDA_ERROR_NOT_FOUND", 500),
            ("CUDA_ERROR_NOT_READY", 600), ("CUDA_ERROR_ILLEGAL_ADDRESS", 700),
            ("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", 701), ("CUDA_ERROR_LAUNCH_TIMEOUT", 702),
            ("CUDA_ERROR_LAUNCH_FAILED", 719), ("CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", 900),
            ("CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", 901), ("CUDA_ERROR_UNKNOWN", 999)]),
        ("enum CUdevice_attribute_enum", [
            ("CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK", 1), ("CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X", 2),
            ("CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X", 5), ("CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK", 8),
            ("CU_DEVICE_ATTRIBUTE_WARP_SIZE", 10), ("CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK", 12),
            ("CU_DEVICE_ATTRIBUTE_CLOCK_RATE", 13), ("CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT", 16),
            ("CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE", 36), ("CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH", 37),
            ("CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE", 38), ("CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR", 39),
            ("CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR", 75), ("CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR", 76),
            ("CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR", 81),
            ("CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN", 97),
            ("CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED", 115)]),
        ("enum CUfunction_attribute_enum", [
            ("CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK", 0), ("CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES", 1),
            ("CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES", 2), ("CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES", 3),
            ("CU_FUNC_ATTRIBUTE_NUM_REGS", 4), ("CU_FUNC_ATTRIBUTE_PTX_VERSION", 5),
            ("CU_FUNC_ATTRIBUTE_BINARY_VERSION", 6), ("CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES", 8)]),
        ("enum CUstream_flags_enum", [("CU_STREAM_DEFAULT", 0), ("CU_STREAM_NON_BLOCKING", 1)]),
        ("enum CUevent_flags_enum", [("CU_EVENT_DEFAULT", 0), ("CU_EVENT_BLOCKING_SYNC", 1),
                                     ("CU_EVENT_DISABLE_TIMING", 2)]),
        ("enum CUevent_wait_flags_enum", [("CU_EVENT_WAIT_DEFAULT", 0)]),
        ("#define", [("CU_MEMHOSTALLOC_PORTABLE", 1), ("CU_MEMHOSTALLOC_DEVICEMAP", 2),
                     ("CU_MEMHOSTALLOC_WRITECOMBINED", 4)]),
        ("enum CUstreamCaptureMode_enum", [("CU_STREAM_CAPTURE_MODE_GLOBAL", 0),
                                           ("CU_STREAM_CAPTURE_MODE_THREAD_LOCAL", 1),
                                           ("CU_STREAM_CAPTURE_MODE_RELAXED", 2)]),
        ("enum CUstreamCaptureStatus_enum", [("CU_STREAM_CAPTURE_STATUS_NONE", 0),
                                             ("CU_STREAM_CAPTURE_STATUS_ACTIVE", 1),
                                             ("CU_STREAM_CAPTURE_STATUS_INVALIDATED", 2)]),
        ("enum CUgraphInstantiate_flags_enum", [
            ("CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH", 1), ("CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD", 2),
            ("CUDA_GRAPH_INSTANTIATE_FLAG_DEVICE_LAUNCH", 4), ("CUDA_GRAPH_INSTANTIATE_FLAG_USE_NODE_PRIORITY", 8)]),
        ("enum CUjit_option_enum", [
            ("CU_JIT_INFO_LOG_BUFFER", 3), ("CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES", 4),
            ("CU_JIT_ERROR_LOG_BUFFER", 5), ("CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES", 6),
            ("CU_JIT_LOG_VERBOSE", 12)]),
    ],
    [("CU_STREAM_LEGACY", 1, "#define CU_STREAM_LEGACY ((CUstream)0x1)"),
     ("CU_STREAM_PER_THREAD", 2, "#define CU_STREAM_PER_THREAD ((CUstream)0x2)")],
)

NVRTC = Header(
    "nvrtc_h", "nvrtc.h", "NVRTC",
    "Bindings for {@code nvrtc.h}, the NVRTC runtime compiler ({@code libnvrtc.so.13}).",
    """
const char *nvrtcGetErrorString(nvrtcResult result);
nvrtcResult nvrtcVersion(int *major, int *minor);
nvrtcResult nvrtcGetNumSupportedArchs(int *numArchs);
nvrtcResult nvrtcGetSupportedArchs(int *supportedArchs);
nvrtcResult nvrtcCreateProgram(nvrtcProgram *prog, const char *src, const char *name, int numHeaders, const char * const *headers, const char * const *includeNames);
nvrtcResult nvrtcDestroyProgram(nvrtcProgram *prog);
nvrtcResult nvrtcCompileProgram(nvrtcProgram prog, int numOptions, const char * const *options);
nvrtcResult nvrtcGetPTXSize(nvrtcProgram prog, size_t *ptxSizeRet);
nvrtcResult nvrtcGetPTX(nvrtcProgram prog, char *ptx);
nvrtcResult nvrtcGetCUBINSize(nvrtcProgram prog, size_t *cubinSizeRet);
nvrtcResult nvrtcGetCUBIN(nvrtcProgram prog, char *cubin);
nvrtcResult nvrtcGetProgramLogSize(nvrtcProgram prog, size_t *logSizeRet);
nvrtcResult nvrtcGetProgramLog(nvrtcProgram prog, char *log);
nvrtcResult nvrtcAddNameExpression(nvrtcProgram prog, const char * const name_expression);
nvrtcResult nvrtcGetLoweredName(nvrtcProgram prog, const char *const name_expression, const char **lowered_name);
""",
    [("enum nvrtcResult", [
        ("NVRTC_SUCCESS", 0), ("NVRTC_ERROR_OUT_OF_MEMORY", 1), ("NVRTC_ERROR_INVALID_INPUT", 3),
        ("NVRTC_ERROR_INVALID_PROGRAM", 4), ("NVRTC_ERROR_INVALID_OPTION", 5), ("NVRTC_ERROR_COMPILATION", 6),
        ("NVRTC_ERROR_BUILTIN_OPERATION_FAILURE", 7), ("NVRTC_ERROR_INTERNAL_ERROR", 11)])],
)

DATA_TYPES = ("enum cudaDataType_t", [
    ("CUDA_R_32F", 0), ("CUDA_R_64F", 1), ("CUDA_R_16F", 2), ("CUDA_R_8I", 3), ("CUDA_R_8U", 8),
    ("CUDA_R_32I", 10), ("CUDA_R_16BF", 14), ("CUDA_R_8F_E4M3", 28), ("CUDA_R_8F_E5M2", 29)])

STATUS = ("enum cublasStatus_t", [
    ("CUBLAS_STATUS_SUCCESS", 0), ("CUBLAS_STATUS_NOT_INITIALIZED", 1), ("CUBLAS_STATUS_ALLOC_FAILED", 3),
    ("CUBLAS_STATUS_INVALID_VALUE", 7), ("CUBLAS_STATUS_ARCH_MISMATCH", 8), ("CUBLAS_STATUS_MAPPING_ERROR", 11),
    ("CUBLAS_STATUS_EXECUTION_FAILED", 13), ("CUBLAS_STATUS_INTERNAL_ERROR", 14),
    ("CUBLAS_STATUS_NOT_SUPPORTED", 15), ("CUBLAS_STATUS_LICENSE_ERROR", 16)])

COMPUTE_TYPES = ("enum cublasComputeType_t", [
    ("CUBLAS_COMPUTE_16F", 64), ("CUBLAS_COMPUTE_16F_PEDANTIC", 65), ("CUBLAS_COMPUTE_32F", 68),
    ("CUBLAS_COMPUTE_32F_PEDANTIC", 69), ("CUBLAS_COMPUTE_32F_FAST_16F", 74),
    ("CUBLAS_COMPUTE_32F_FAST_16BF", 75), ("CUBLAS_COMPUTE_32F_FAST_TF32", 77),
    ("CUBLAS_COMPUTE_64F", 70), ("CUBLAS_COMPUTE_32I", 72)])

OPERATIONS = ("enum cublasOperation_t", [("CUBLAS_OP_N", 0), ("CUBLAS_OP_T", 1), ("CUBLAS_OP_C", 2)])

CUBLAS = Header(
    "cublas_api_h", "cublas_api.h", "CUBLAS",
    "Bindings for {@code cublas_api.h}, the cuBLAS v2 API ({@code libcublas.so.13}); the functions the\n"
    " * v2 header renames are bound as {@code *_v2} (REFERENCE.md section 1).",
    """
const char *cublasGetStatusName(cublasStatus_t status);
const char *cublasGetStatusString(cublasStatus_t status);
cublasStatus_t cublasCreate_v2(cublasHandle_t *handle);
cublasStatus_t cublasDestroy_v2(cublasHandle_t handle);
cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int *version);
cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId);
cublasStatus_t cublasGetStream_v2(cublasHandle_t handle, cudaStream_t *streamId);
cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void *workspace, size_t workspaceSizeInBytes);
cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode);
cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t *mode);
cublasStatus_t cublasSetPointerMode_v2(cublasHandle_t handle, cublasPointerMode_t mode);
cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, const void *alpha, const void *A, cudaDataType Atype, int lda, const void *B, cudaDataType Btype, int ldb, const void *beta, void *C, cudaDataType Ctype, int ldc, cublasComputeType_t computeType, cublasGemmAlgo_t algo);
cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, const void *alpha, const void *A, cudaDataType Atype, int lda, long long int strideA, const void *B, cudaDataType Btype, int ldb, long long int strideB, const void *beta, void *C, cudaDataType Ctype, int ldc, long long int strideC, int batchCount, cublasComputeType_t computeType, cublasGemmAlgo_t algo);
""",
    [STATUS, OPERATIONS,
     ("enum cublasPointerMode_t", [("CUBLAS_POINTER_MODE_HOST", 0), ("CUBLAS_POINTER_MODE_DEVICE", 1)]),
     ("enum cublasMath_t", [("CUBLAS_DEFAULT_MATH", 0), ("CUBLAS_PEDANTIC_MATH", 2),
                            ("CUBLAS_TF32_TENSOR_OP_MATH", 3),
                            ("CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION", 16)]),
     COMPUTE_TYPES,
     ("enum cublasGemmAlgo_t", [("CUBLAS_GEMM_DEFAULT", -1), ("CUBLAS_GEMM_DEFAULT_TENSOR_OP", 99)]),
     DATA_TYPES],
)

CUBLASLT = Header(
    "cublasLt_h", "cublasLt.h", "CUBLAS_LT",
    "Bindings for {@code cublasLt.h}, the cuBLASLt matmul API ({@code libcublasLt.so.13}).",
    """
const char *cublasLtGetStatusName(cublasStatus_t status);
const char *cublasLtGetStatusString(cublasStatus_t status);
size_t cublasLtGetVersion(void);
cublasStatus_t cublasLtCreate(cublasLtHandle_t *lightHandle);
cublasStatus_t cublasLtDestroy(cublasLtHandle_t lightHandle);
cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t *matmulDesc, cublasComputeType_t computeType, cudaDataType_t scaleType);
cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t matmulDesc, cublasLtMatmulDescAttributes_t attr, const void *buf, size_t sizeInBytes);
cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t matmulDesc);
cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t *matLayout, cudaDataType type, uint64_t rows, uint64_t cols, int64_t ld);
cublasStatus_t cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t matLayout, cublasLtMatrixLayoutAttribute_t attr, const void *buf, size_t sizeInBytes);
cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t matLayout);
cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t *pref);
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t pref, cublasLtMatmulPreferenceAttributes_t attr, const void *buf, size_t sizeInBytes);
cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t pref);
cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t lightHandle, cublasLtMatmulDesc_t operationDesc, cublasLtMatrixLayout_t Adesc, cublasLtMatrixLayout_t Bdesc, cublasLtMatrixLayout_t Cdesc, cublasLtMatrixLayout_t Ddesc, cublasLtMatmulPreference_t preference, int requestedAlgoCount, cublasLtMatmulHeuristicResult_t heuristicResultsArray[], int *returnAlgoCount);
cublasStatus_t cublasLtMatmul(cublasLtHandle_t lightHandle, cublasLtMatmulDesc_t computeDesc, const void *alpha, const void *A, cublasLtMatrixLayout_t Adesc, const void *B, cublasLtMatrixLayout_t Bdesc, const void *beta, const void *C, cublasLtMatrixLayout_t Cdesc, void *D, cublasLtMatrixLayout_t Ddesc, const cublasLtMatmulAlgo_t *algo, void *workspace, size_t workspaceSizeInBytes, cudaStream_t stream);
""",
    [STATUS, OPERATIONS, COMPUTE_TYPES, DATA_TYPES,
     ("enum cublasLtMatmulDescAttributes_t", [
         ("CUBLASLT_MATMUL_DESC_COMPUTE_TYPE", 0), ("CUBLASLT_MATMUL_DESC_SCALE_TYPE", 1),
         ("CUBLASLT_MATMUL_DESC_POINTER_MODE", 2), ("CUBLASLT_MATMUL_DESC_TRANSA", 3),
         ("CUBLASLT_MATMUL_DESC_TRANSB", 4), ("CUBLASLT_MATMUL_DESC_EPILOGUE", 7),
         ("CUBLASLT_MATMUL_DESC_BIAS_POINTER", 8), ("CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE", 10),
         ("CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER", 11), ("CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD", 12),
         ("CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_BATCH_STRIDE", 13),
         ("CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_DATA_TYPE", 22), ("CUBLASLT_MATMUL_DESC_FAST_ACCUM", 25),
         ("CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE", 26)]),
     ("enum cublasLtEpilogue_t", [
         ("CUBLASLT_EPILOGUE_DEFAULT", 1), ("CUBLASLT_EPILOGUE_RELU", 2), ("CUBLASLT_EPILOGUE_RELU_AUX", 130),
         ("CUBLASLT_EPILOGUE_BIAS", 4), ("CUBLASLT_EPILOGUE_RELU_BIAS", 6),
         ("CUBLASLT_EPILOGUE_RELU_AUX_BIAS", 134), ("CUBLASLT_EPILOGUE_DRELU", 136),
         ("CUBLASLT_EPILOGUE_DRELU_BGRAD", 152), ("CUBLASLT_EPILOGUE_GELU", 32),
         ("CUBLASLT_EPILOGUE_GELU_AUX", 160), ("CUBLASLT_EPILOGUE_GELU_BIAS", 36),
         ("CUBLASLT_EPILOGUE_GELU_AUX_BIAS", 164), ("CUBLASLT_EPILOGUE_DGELU", 192),
         ("CUBLASLT_EPILOGUE_DGELU_BGRAD", 208), ("CUBLASLT_EPILOGUE_BGRADA", 256),
         ("CUBLASLT_EPILOGUE_BGRADB", 512)]),
     ("enum cublasLtMatrixLayoutAttribute_t", [
         ("CUBLASLT_MATRIX_LAYOUT_TYPE", 0), ("CUBLASLT_MATRIX_LAYOUT_ORDER", 1),
         ("CUBLASLT_MATRIX_LAYOUT_ROWS", 2), ("CUBLASLT_MATRIX_LAYOUT_COLS", 3),
         ("CUBLASLT_MATRIX_LAYOUT_LD", 4), ("CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT", 5),
         ("CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET", 6)]),
     ("enum cublasLtOrder_t", [("CUBLASLT_ORDER_COL", 0), ("CUBLASLT_ORDER_ROW", 1)]),
     ("enum cublasLtMatmulPreferenceAttributes_t", [
         ("CUBLASLT_MATMUL_PREF_SEARCH_MODE", 0), ("CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES", 1),
         ("CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES", 5), ("CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES", 6),
         ("CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES", 7), ("CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES", 8)])],
)


def main():
    os.makedirs(OUT, exist_ok=True)
    for h in (DRIVER, NVRTC, CUBLAS, CUBLASLT):
        path = os.path.join(OUT, h.cls + ".java")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(header_code(h))
        os.replace(tmp, path)
        print(f"wrote {os.path.normpath(path)}: {len(h.functions)} functions")


if __name__ == "__main__":
    main()
