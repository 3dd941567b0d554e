/**
 * The CUDA backend's own Java kernels (written like {@code nvlm.kernels.gpu}'s and translated the
 * same way), for what the library does not cover in the tensor Backend's conventions: dtype
 * conversions through strided views ({@link nvlm.cuda.backend.kernels.TypedCopy}), pointwise ops
 * over broadcast views of any rank ({@link nvlm.cuda.backend.kernels.Pointwise}), reductions along
 * any axis and the sum of squares in double ({@link nvlm.cuda.backend.kernels.Reductions}), I64
 * gathers and scatters ({@link nvlm.cuda.backend.kernels.IndexedRows}), cross-entropy with any
 * ignore index ({@link nvlm.cuda.backend.kernels.CrossEntropyRows}), RoPE from the CPU's double
 * table ({@link nvlm.cuda.backend.kernels.RopeTable}) and bf16 GEMM operands
 * ({@link nvlm.cuda.backend.kernels.GemmOperands}). {@link nvlm.cuda.backend.kernels.BackendKernels}
 * lists every kernel the backend launches.
 */
package nvlm.cuda.backend.kernels;
