/**
 * FFM bindings to the CUDA libraries in jextract's layout: one class per C header
 * ({@link nvlm.cuda.bindings.cuda_h} driver API, {@link nvlm.cuda.bindings.nvrtc_h},
 * {@link nvlm.cuda.bindings.cublas_api_h}, {@link nvlm.cuda.bindings.cublasLt_h}), each function as
 * {@code name(...)}, {@code name$handle()}, {@code name$descriptor()} and {@code name$address()},
 * constants as static methods, and struct classes with layouts. The header classes are written
 * by {@code cuda-ffm/src/gen/bindgen.py} from the C declarations (driver functions under their
 * versioned symbols, REFERENCE.md section 1); {@code HeaderSignatureTest} compiles them against
 * the real headers.
 *
 * <p>{@link nvlm.cuda.runtime.CudaLibraries} finds and loads the libraries lazily
 * ({@link nvlm.cuda.runtime.LibrarySearch} lists where): every class loads without them, and the
 * first call that needs one throws {@link nvlm.cuda.runtime.CudaLibraryNotFoundException} with the
 * places searched. Only {@code nvlm.cuda} uses this package; nothing above it touches a
 * MethodHandle.
 */
package nvlm.cuda.bindings;
