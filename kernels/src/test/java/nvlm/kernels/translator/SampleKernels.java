package nvlm.kernels.translator;

/** Small kernels the translator tests translate and run. */
final class SampleKernels {
    private SampleKernels() {
    }

    static final int TILE = 64;

    @Kernel
    static void add(KernelContext kc, F32Buffer a, F32Buffer b, F32Buffer out, int n) {
        int i = kc.gix();
        if (i < n) {
            out.set(i, a.get(i) + b.get(i));
        }
    }

    @Kernel
    static void blockSum(KernelContext kc, F32Buffer x, F32Buffer partial, int n) {
        F32Buffer scratch = kc.sharedF32(TILE);
        int tid = kc.lix();
        float acc = 0f;
        for (int i = kc.gix(); i < n; i += kc.gsx()) {
            acc += x.get(i);
        }
        scratch.set(tid, acc);
        kc.barrier();
        for (int stride = kc.lsx() / 2; stride > 0; stride /= 2) {
            if (tid < stride) {
                scratch.set(tid, scratch.get(tid) + scratch.get(tid + stride));
            }
            kc.barrier();
        }
        if (tid == 0) {
            partial.set(kc.bix(), scratch.get(0));
        }
    }

    static float gelu(float x) {
        return 0.5f * x * (1f + (float) Math.tanh(0.7978845608f * (x + 0.044715f * x * x * x)));
    }

    @Kernel
    static void geluKernel(KernelContext kc, F32Buffer x, BF16Buffer y, long n) {
        long i = kc.gix();
        if (i < n) {
            float v = x.get(i);
            y.set(i, v > 0 ? gelu(v) : Math.max(v, -1f) * 0.5f);
        }
    }

    @Kernel
    static void readsSharedBeforeWriting(KernelContext kc, F32Buffer out) {
        F32Buffer scratch = kc.sharedF32(4);
        out.set(kc.lix(), scratch.get(kc.lix()));
    }

    /** Locals named like C functions the translation calls (exp, logf, iadd, f2i) must not hide them. */
    @Kernel
    static void namesThatShadowCFunctions(KernelContext kc, F32Buffer out, int iadd) {
        float exp = (float) Math.exp(kc.lix());
        float logf = (float) Math.log(exp + 1f);
        int f2i = (int) logf + iadd;
        out.set(kc.lix(), exp + logf + f2i);
    }
}
