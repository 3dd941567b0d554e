package nvlm.kernels.translator;

/**
 * A kernel (or a method it calls) is outside the subset of Java that translates to CUDA C. The
 * message names the method, the source line and the construct, e.g.
 * {@code Softmax.forward (Softmax.java:42): allocation (new java.util.ArrayList) is not allowed in a kernel}.
 */
public final class KernelTranslationException extends RuntimeException {
    private final String method;
    private final int line;
    private final String construct;

    KernelTranslationException(String method, String sourceFile, int line, String construct) {
        super(method + " (" + sourceFile + (line > 0 ? ":" + line : "") + "): " + construct);
        this.method = method;
        this.line = line;
        this.construct = construct;
    }

    private KernelTranslationException(KernelTranslationException cause, String caller) {
        super(cause.getMessage() + "\n  called from " + caller);
        this.method = cause.method;
        this.line = cause.line;
        this.construct = cause.construct;
    }

    /** The same error, noting the call site that reached the offending method. */
    KernelTranslationException calledFrom(String caller) {
        return new KernelTranslationException(this, caller);
    }

    /** The method holding the offending construct, as {@code SimpleClassName.method}. */
    public String method() {
        return method;
    }

    /** The source line of the construct (from the LineNumberTable), or 0 when unknown. */
    public int line() {
        return line;
    }

    /** What is not allowed, in words. */
    public String construct() {
        return construct;
    }
}
