/**
 * The GPU backend's non-GEMM kernels, written in Java with {@link nvlm.kernels.hat}: one class
 * per operation, forward and backward side by side, each kernel beside a launcher that checks
 * sizes and returns a {@link nvlm.kernels.hat.KernelLaunch} (grid included), runnable on the CPU
 * ({@code runOnCpu()}) or by a CUDA runtime. Compute is float32; BF16/F16 appear in casts and
 * copies. {@link nvlm.kernels.gpu.GpuKernels#all()} lists every kernel.
 *
 * <p>{@link nvlm.kernels.gpu.Elementwise} (unary functions and their derivatives, binary
 * operations contiguous or broadcast through strides, scale, axpy, fill),
 * {@link nvlm.kernels.gpu.Cast}, {@link nvlm.kernels.gpu.StridedCopy} (permuted/sliced views, up to
 * rank 6), {@link nvlm.kernels.gpu.Reduce} (row sum/max, two-pass column sums, sum of squares),
 * {@link nvlm.kernels.gpu.Softmax} (and log-softmax), {@link nvlm.kernels.gpu.LayerNorm},
 * {@link nvlm.kernels.gpu.RmsNorm}, {@link nvlm.kernels.gpu.Rope}, {@link nvlm.kernels.gpu.Embedding},
 * {@link nvlm.kernels.gpu.CrossEntropy}, {@link nvlm.kernels.gpu.AdamW} and
 * {@link nvlm.kernels.gpu.Attention} (flash-style, GQA, causal/explicit masks, deterministic
 * backward). Reductions over rows use a fixed order, so results are deterministic;
 * {@link nvlm.kernels.gpu.Embedding#backwardAtomic} is the one exception, by choice.
 *
 * <p>Optional buffers the caller leaves out are replaced by {@link nvlm.kernels.gpu.Placeholders},
 * which the kernel is told (by a flag or mask mode) not to read.
 */
package nvlm.kernels.gpu;
