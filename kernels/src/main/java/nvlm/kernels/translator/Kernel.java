package nvlm.kernels.translator;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a kernel entry point: a {@code static void} method whose first parameter is a
 * {@link KernelContext} and whose other parameters are primitives and {@link Buffer}s. It becomes
 * an {@code extern "C" __global__} function; the static methods it calls become
 * {@code __device__} functions (they need no annotation).
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Kernel {
}
