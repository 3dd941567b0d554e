package nvlm.kernels.gpu;

import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.KernelContext;

/**
 * Block-wide f32 reductions through shared memory: a tree over the block's threads, so the block
 * size must be a power of two no larger than the scratch buffer ({@link Launches#THREADS}). Every thread of the block must
 * call them (they contain barriers); every thread gets the result. The order of additions is
 * fixed, so results are deterministic.
 */
public final class BlockReduce {
    private BlockReduce() {
    }

    /** Sum of {@code value} over the block's threads. */
    public static float sum(KernelContext kc, F32Buffer scratch, float value) {
        int tid = kc.lix();
        scratch.set(tid, value);
        kc.barrier();
        for (int stride = kc.lsx() / 2; stride > 0; stride >>= 1) {
            if (tid < stride) {
                scratch.set(tid, scratch.get(tid) + scratch.get(tid + stride));
            }
            kc.barrier();
        }
        float total = scratch.get(0);
        kc.barrier();  // the caller may reuse scratch at once
        return total;
    }

    /** Maximum of {@code value} over the block's threads (NaN if any is NaN, as Math.max). */
    public static float max(KernelContext kc, F32Buffer scratch, float value) {
        int tid = kc.lix();
        scratch.set(tid, value);
        kc.barrier();
        for (int stride = kc.lsx() / 2; stride > 0; stride >>= 1) {
            if (tid < stride) {
                scratch.set(tid, Math.max(scratch.get(tid), scratch.get(tid + stride)));
            }
            kc.barrier();
        }
        float result = scratch.get(0);
        kc.barrier();
        return result;
    }
}
