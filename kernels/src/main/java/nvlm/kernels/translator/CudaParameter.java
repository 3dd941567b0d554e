package nvlm.kernels.translator;

/**
 * One parameter of a translated kernel's C signature, in order. The kernel context has no C
 * parameter (CUDA's {@code threadIdx}, {@code blockIdx}, ... stand in for it), so parameter
 * {@code i} here is Java argument {@code i} after the context.
 *
 * <p>For {@code cuLaunchKernel}, {@code kernelParams[i]} points to {@link #byteSize()} bytes
 * holding the value: a device address for a {@link Kind#POINTER}, else the scalar in native
 * byte order ({@code int} also carries Java {@code boolean}, {@code byte}, {@code short} and
 * {@code char}: true is 1).
 *
 * @param name     the Java parameter name (from the LocalVariableTable)
 * @param cType    the C type, e.g. {@code float*} or {@code long long}
 * @param kind     how the value is passed
 * @param javaType the Java parameter type, e.g. {@code F32Buffer.class} or {@code int.class}
 */
public record CudaParameter(String name, String cType, Kind kind, Class<?> javaType) {
    /** How a parameter is passed. */
    public enum Kind {
        INT(4), LONG(8), FLOAT(4), DOUBLE(8), POINTER(8);

        private final int byteSize;

        Kind(int byteSize) {
            this.byteSize = byteSize;
        }

        public int byteSize() {
            return byteSize;
        }
    }

    /** Bytes of the argument slot {@code kernelParams[i]} points to. */
    public int byteSize() {
        return kind.byteSize();
    }
}
