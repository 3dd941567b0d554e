/**
 * The CUDA runtime layer over {@link nvlm.cuda.bindings}: every status is checked and turned into
 * a {@link nvlm.cuda.CudaException} naming the call, the code and its text.
 * <ul>
 *   <li>{@link nvlm.cuda.Cuda} (driver init, availability), {@link nvlm.cuda.CudaDevice} (primary
 *       context, attributes), {@link nvlm.cuda.CudaStream}, {@link nvlm.cuda.CudaEvent},
 *       {@link nvlm.cuda.CudaGraph} (stream capture and replay);</li>
 *   <li>memory: {@link nvlm.cuda.DeviceBuffer} (copies, memsets), {@link nvlm.cuda.PinnedBuffer},
 *       {@link nvlm.cuda.CachingAllocator} with {@link nvlm.cuda.AllocationScope};</li>
 *   <li>kernels: {@link nvlm.cuda.Nvrtc} (compile, with the {@link nvlm.cuda.KernelCache} on disk),
 *       {@link nvlm.cuda.CudaModule}, {@link nvlm.cuda.CudaKernel}, {@link nvlm.cuda.KernelArgs},
 *       {@link nvlm.cuda.Dim3};</li>
 *   <li>matrix products: {@link nvlm.cuda.Cublas} and {@link nvlm.cuda.CublasLt} over row-major
 *       {@link nvlm.cuda.RowMajorGemm} shapes, {@link nvlm.cuda.GemmCompute}, {@link nvlm.cuda.Epilogue};</li>
 *   <li>{@link nvlm.cuda.DeviceCheck}: the GPU checks and the BF16 GEMM benchmark as a program.</li>
 * </ul>
 * The tensor backend on top of this layer is {@link nvlm.cuda.backend}.
 * Objects holding native resources are {@link java.lang.AutoCloseable} and are released by
 * {@code close()}, never by the garbage collector. A device's primary context is current on the
 * thread that opened it; other threads call {@link nvlm.cuda.CudaDevice#makeCurrent()} first.
 */
package nvlm.cuda;
