package nvlm.kernels.translator;

/**
 * Kernels outside the subset. Each offending line carries a {@code BAD:} marker naming the
 * kernel; {@link RejectedConstructsTest} expects the error to name that line.
 */
@SuppressWarnings({"unused", "synchronization", "StringConcatenationInLoop"})
final class BadKernels {
    private BadKernels() {
    }

    static int counter;
    static float nonFinal = 1f;

    @Kernel
    static void allocation(KernelContext kc, F32Buffer out) {
        Object box = new Object(); // BAD: allocation
        out.set(0, box == null ? 1f : 0f);
    }

    @Kernel
    static void virtualCall(KernelContext kc, F32Buffer out) {
        out.set(0, ((Object) kc).hashCode()); // BAD: virtualCall
    }

    @Kernel
    static void fieldWrite(KernelContext kc, F32Buffer out) {
        counter = kc.gix(); // BAD: fieldWrite
    }

    @Kernel
    static void tryBlock(KernelContext kc, F32Buffer out, int n) {
        try {
            out.set(kc.gix(), 1f / n); // BAD: tryBlock
        } catch (IndexOutOfBoundsException e) {
            out.set(0, -1f);
        }
    }

    @Kernel
    static void jdkStaticCall(KernelContext kc, F32Buffer out) {
        out.set(0, System.nanoTime()); // BAD: jdkStaticCall
    }

    static float helperThatAllocates(float x) {
        StringBuilder text = new StringBuilder(); // BAD: helperThatAllocates
        return x + text.length();
    }

    @Kernel
    static void callsBadHelper(KernelContext kc, F32Buffer out) {
        out.set(0, helperThatAllocates(2f)); // BAD: callsBadHelper
    }

    @Kernel
    static void monitor(KernelContext kc, F32Buffer out) {
        synchronized (out) { // BAD: monitor
            out.set(0, 1f);
        }
    }

    @Kernel
    static void lambda(KernelContext kc, F32Buffer out) {
        Runnable r = () -> out.set(0, 1f); // BAD: lambda
        out.set(1, 2f);
    }

    @Kernel
    static void stringConcatenation(KernelContext kc, F32Buffer out, int n) {
        String s = "n=" + n; // BAD: stringConcatenation
    }

    @Kernel
    static void arrayCreation(KernelContext kc, F32Buffer out) {
        float[] scratch = new float[4]; // BAD: arrayCreation
        out.set(0, scratch.length);
    }

    @Kernel
    static void throwing(KernelContext kc, F32Buffer out, int n) {
        if (n < 0) {
            throw new IllegalArgumentException(); // BAD: throwing
        }
    }

    @Kernel
    static void mutableStaticRead(KernelContext kc, F32Buffer out) {
        out.set(0, nonFinal); // BAD: mutableStaticRead
    }

    @Kernel
    static void hostOnlyBufferMethod(KernelContext kc, F32Buffer out) {
        out.set(0, out.length()); // BAD: hostOnlyBufferMethod
    }

    @Kernel
    static void sharedAfterBranch(KernelContext kc, F32Buffer out, int n) {
        if (n > 0) {
            out.set(0, 1f);
        }
        F32Buffer late = kc.sharedF32(32); // BAD: sharedAfterBranch
        late.set(kc.lix(), 0f);
    }

    @Kernel
    static void sharedOfVariableSize(KernelContext kc, F32Buffer out, int n) {
        F32Buffer scratch = kc.sharedF32(n); // BAD: sharedOfVariableSize
        scratch.set(0, 1f);
    }

    @Kernel
    static void contextCopy(KernelContext kc, F32Buffer out) {
        KernelContext other = kc; // BAD: contextCopy
        out.set(0, other.gix());
    }

    @Kernel
    static void nullReference(KernelContext kc, F32Buffer out) {
        F32Buffer none = null; // BAD: nullReference
        out.set(0, 1f);
    }

    @Kernel
    static void badParameter(KernelContext kc, float[] out) {
        kc.barrier(); // BAD: badParameter
    }
}
