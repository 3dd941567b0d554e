/**
 * The CUDA backend's kernels, written in Java in the language of {@link nvlm.kernels.translator}:
 * one class per operation, forward and backward side by side, each kernel beside a launcher that
 * checks sizes and returns a {@link nvlm.kernels.translator.KernelLaunch} (grid included), runnable
 * on the CPU ({@code runOnCpu()}) or by a CUDA runtime. {@link nvlm.kernels.gpu.GpuKernels} lists
 * them; the backend launches every one of them and no other.
 *
 * <p>{@link nvlm.kernels.gpu.Elementwise} (unary functions and their derivatives, binary
 * operations, comparisons and selects, contiguous or broadcast through strides, affine, axpy),
 * {@link nvlm.kernels.gpu.Cast} (f32 to and from the 16-bit floats, bf16 GEMM operands),
 * {@link nvlm.kernels.gpu.StridedCopy} (views of up to rank 6, any dtype pair, fills),
 * {@link nvlm.kernels.gpu.Reduce} (along any axis, argmax, sum of squares, column sums),
 * {@link nvlm.kernels.gpu.Softmax} (and log-softmax), {@link nvlm.kernels.gpu.LayerNorm},
 * {@link nvlm.kernels.gpu.RmsNorm}, {@link nvlm.kernels.gpu.Rope}, {@link nvlm.kernels.gpu.Embedding}
 * (I64 gathers and scatters), {@link nvlm.kernels.gpu.CrossEntropy}, {@link nvlm.kernels.gpu.AdamW}
 * and {@link nvlm.kernels.gpu.Attention} (flash-style, GQA, causal or explicit masks,
 * deterministic backward). Compute is f32 (sums along an axis in double, as the CPU backend's);
 * reductions use a fixed order, so results are deterministic, except the atomic scatter that
 * {@link nvlm.kernels.gpu.Embedding#scatterAdd} picks for very large tables.
 *
 * <p>Optional buffers the caller leaves out are replaced by {@link nvlm.kernels.gpu.Placeholders},
 * which the kernel is told (by a flag, a mask mode or a dtype code) not to read.
 */
package nvlm.kernels.gpu;
