/**
 * The CUDA runtime, the middle floor of cuda-ffm and the only code that calls the generated
 * {@link nvlm.cuda.bindings}: every status is checked and turned into a
 * {@link nvlm.cuda.runtime.CudaException} naming the call, the code and its text.
 * <ul>
 *   <li>libraries: {@link nvlm.cuda.runtime.CudaLibraries} finds and loads libcuda, NVRTC and cuBLAS
 *       on first use ({@link nvlm.cuda.runtime.LibrarySearch} says where), so everything loads and
 *       skips cleanly on a machine without them;</li>
 *   <li>{@link nvlm.cuda.runtime.Cuda} (driver init, availability), {@link nvlm.cuda.runtime.CudaDevice}
 *       (primary context, attributes), {@link nvlm.cuda.runtime.CudaStream} (queued copies and
 *       memsets), {@link nvlm.cuda.runtime.CudaEvent} (timing);</li>
 *   <li>memory: {@link nvlm.cuda.runtime.DeviceBuffer} and the
 *       {@link nvlm.cuda.runtime.CachingAllocator};</li>
 *   <li>kernels: {@link nvlm.cuda.runtime.Nvrtc} (compile, with the
 *       {@link nvlm.cuda.runtime.KernelCache} on disk), {@link nvlm.cuda.runtime.CudaModule},
 *       {@link nvlm.cuda.runtime.CudaFunction};</li>
 *   <li>matrix products: {@link nvlm.cuda.runtime.Cublas} running a column-major
 *       {@link nvlm.cuda.runtime.GemmCall}.</li>
 * </ul>
 * The tensor backend on top, {@link nvlm.cuda.backend}, calls only this package (the floors are
 * checked by {@code GpuFloorsTest}). Objects holding native resources are
 * {@link java.lang.AutoCloseable} and are released by {@code close()}, never by the garbage
 * collector. A device's primary context is current on the thread that opened it; other threads
 * call {@link nvlm.cuda.runtime.CudaDevice#makeCurrent()} first.
 */
package nvlm.cuda.runtime;
