package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Launches.requireLength;

import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.Kernel;
import nvlm.kernels.translator.KernelContext;
import nvlm.kernels.translator.KernelLaunch;

/**
 * One AdamW step with PyTorch's semantics (torch.optim.AdamW, decoupled weight decay):
 * <pre>
 * g = grad * gradScale                          (gradScale: clipping factor, 1 for none)
 * p = p * (1 - lr * weightDecay)
 * m = beta1 * m + (1 - beta1) * g
 * v = beta2 * v + (1 - beta2) * g^2
 * p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * The bias corrections are computed once per step on the host, in double, as PyTorch does.
 */
public final class AdamW {
    private AdamW() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel STEP = GpuKernel.of(AdamW.class, "stepKernel");

    @Kernel
    static void stepKernel(KernelContext kc, F32Buffer param, F32Buffer grad, F32Buffer m, F32Buffer v, long n,
                           float lr, float beta1, float beta2, float eps, float weightDecay,
                           float stepSize, float bias2Sqrt, float gradScale) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            float g = grad.get(i) * gradScale;
            float p = param.get(i) * (1f - lr * weightDecay);
            float mi = beta1 * m.get(i) + (1f - beta1) * g;
            float vi = beta2 * v.get(i) + (1f - beta2) * g * g;
            m.set(i, mi);
            v.set(i, vi);
            param.set(i, p - stepSize * mi / ((float) Math.sqrt(vi) / bias2Sqrt + eps));
        }
    }

    /** Step {@code step} (1 for the first) over n parameters, updating param, m and v in place. */
    public static KernelLaunch step(F32Buffer param, F32Buffer grad, F32Buffer m, F32Buffer v, long n, float lr,
                                    float beta1, float beta2, float eps, float weightDecay, int step, float gradScale) {
        Launches.require(step >= 1, "AdamW.step: step counts from 1, got " + step);
        requireLength("AdamW.step", "param", param, n);
        requireLength("AdamW.step", "grad", grad, n);
        requireLength("AdamW.step", "m", m, n);
        requireLength("AdamW.step", "v", v, n);
        double bias1 = 1 - Math.pow(beta1, step);
        double bias2 = 1 - Math.pow(beta2, step);
        float stepSize = (float) (lr / bias1);
        float bias2Sqrt = (float) Math.sqrt(bias2);
        return STEP.launch(Launches.elementwise(n), param, grad, m, v, n, lr, beta1,
                beta2, eps, weightDecay, stepSize, bias2Sqrt, gradScale);
    }
}
