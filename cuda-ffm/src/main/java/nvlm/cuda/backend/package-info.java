/**
 * The tensor {@link nvlm.tensor.Backend} on CUDA: {@link nvlm.cuda.backend.CudaBackend} (registered
 * for {@link java.util.ServiceLoader}), its storages ({@link nvlm.cuda.backend.CudaStorage}, blocks
 * of the caching allocator) and where its work runs, an {@link nvlm.cuda.backend.Accelerator}: a GPU
 * ({@link nvlm.cuda.backend.CudaAccelerator}: one stream, cuBLAS, every kernel compiled once with
 * NVRTC) or the host standing in for one ({@link nvlm.cuda.backend.SimulatedAccelerator}), so the
 * backend is tested end to end without a GPU.
 * <ul>
 *   <li>Matrix products: {@link nvlm.cuda.backend.GemmPlan} maps the Backend's row-major batched
 *       convention to one column-major {@link nvlm.cuda.runtime.GemmCall}
 *       (cublasGemmStridedBatchedEx); {@link nvlm.cuda.backend.MatmulPrecision} picks BF16 tensor
 *       cores (default), TF32 or exact f32; {@link nvlm.cuda.backend.ColumnMajorGemm} is the Java
 *       model of the call.</li>
 *   <li>Everything else: the Java kernels of {@code nvlm.kernels.gpu} (every one of them, and
 *       no other); {@link nvlm.cuda.backend.StridedLayout} merges the dimensions of strided views
 *       for them.</li>
 *   <li>{@link nvlm.cuda.backend.BackendParity}: every Backend method against the CPU backend, run
 *       by the tests (simulated) and by the device check (GPU).</li>
 * </ul>
 */
package nvlm.cuda.backend;
