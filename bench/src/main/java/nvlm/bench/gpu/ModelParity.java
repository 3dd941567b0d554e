package nvlm.bench.gpu;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.cuda.backend.CudaBackend;
import nvlm.cuda.backend.MatmulPrecision;
import nvlm.model.Batch;
import nvlm.model.Nvlm;
import nvlm.model.config.NvlmConfig;
import nvlm.model.xattn.GatedCrossAttention;
import nvlm.tensor.Device;
import nvlm.tensor.GradMode;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Parameter;

/**
 * A whole NVLM model's forward and backward on CUDA against the same model on the CPU: logits
 * (max relative error, max|cuda - cpu| / max|cpu|), loss (relative) and every parameter gradient
 * (relative in norm; the worst one is reported). Both models are made from one seed, with the
 * cross-attention gates opened (they start at 0, which would hide the X and H blocks).
 */
public final class ModelParity {
    private ModelParity() {
    }

    /**
     * @param worstGrad      the parameter whose gradient differs most, relative in norm
     * @param gradientsCompared parameters with a nonzero CPU gradient
     */
    public record Result(String name, MatmulPrecision precision, double logits, double loss, double gradient,
                         String worstGrad, int gradientsCompared, double cudaSeconds) {
        /** Tolerances: f32 as the PyTorch parity acceptance, bf16 a few bf16 roundings wider. */
        public double logitsTolerance() {
            return precision == MatmulPrecision.BF16 ? 5e-2 : precision == MatmulPrecision.TF32 ? 1e-2 : 1e-4;
        }

        public double lossTolerance() {
            return precision == MatmulPrecision.BF16 ? 1e-2 : precision == MatmulPrecision.TF32 ? 2e-3 : 1e-5;
        }

        public double gradientTolerance() {
            return precision == MatmulPrecision.BF16 ? 1e-1 : precision == MatmulPrecision.TF32 ? 2e-2 : 1e-3;
        }

        public boolean passed() {
            return logits <= logitsTolerance() && loss <= lossTolerance() && gradient <= gradientTolerance()
                    && gradientsCompared > 0;
        }

        public String line() {
            return String.format(Locale.ROOT, "%-24s %s  logits=%.2e (tol %.0e) loss=%.2e (tol %.0e) grad=%.2e (tol %.0e,"
                            + " worst %s, %d compared) cuda %.1f s", name + "-" + precision.name().toLowerCase(Locale.ROOT),
                    passed() ? "PASS" : "FAIL", logits, logitsTolerance(), loss, lossTolerance(), gradient,
                    gradientTolerance(), worstGrad, gradientsCompared, cudaSeconds);
        }
    }

    /** The model of {@code config} from {@code seed}, gates opened. */
    public static Nvlm model(NvlmConfig config, long seed) {
        Nvlm model = Nvlm.create(config, new SplittableRandom(seed));
        SplittableRandom gates = new SplittableRandom(seed + 1);
        try (var noGrad = GradMode.disabled()) {
            for (GatedCrossAttention block : model.languageModel().crossAttentionBlocks()) {
                block.attnGate().set(Tensor.of(new float[] {(float) (0.5 + gates.nextDouble())}));
                block.ffGate().set(Tensor.of(new float[] {(float) -(0.5 + gates.nextDouble())}));
            }
        }
        return model;
    }

    private record Run(float[] logits, float loss, Map<String, float[]> grads) {
    }

    private static Run run(Nvlm model, Batch batch) {
        Nvlm.Output out = model.forward(batch);
        out.loss().backward();
        Map<String, float[]> grads = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            Tensor g = e.getValue().grad();
            if (g != null) {
                grads.put(e.getKey(), g.toFloatArray());
            }
        }
        return new Run(out.logits().toFloatArray(), out.loss().item(), grads);
    }

    /** CPU against CUDA (the current CUDA accelerator) under {@code precision} for {@code config} and a CPU batch. */
    public static Result compare(String name, NvlmConfig config, Batch cpuBatch, long seed, MatmulPrecision precision) {
        Run cpu = run(model(config, seed), cpuBatch);
        CudaBackend cuda = CudaBackend.instance();
        MatmulPrecision saved = cuda.matmulPrecision();
        cuda.setMatmulPrecision(precision);
        long started = System.nanoTime();
        Run gpu;
        try {
            Nvlm model = model(config, seed);
            model.to(Device.CUDA);
            gpu = run(model, cpuBatch.to(Device.CUDA));
        } finally {
            cuda.setMatmulPrecision(saved);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        double worst = 0;
        String worstName = "-";
        int compared = 0;
        for (Map.Entry<String, float[]> e : cpu.grads().entrySet()) {
            float[] g = gpu.grads().get(e.getKey());
            double norm = norm(e.getValue());
            if (norm == 0) {
                continue;
            }
            compared++;
            double err = g == null ? Double.POSITIVE_INFINITY : normRelative(g, e.getValue());
            if (!(err <= worst)) {
                worst = err;
                worstName = e.getKey();
            }
        }
        double loss = Math.abs((double) gpu.loss() - cpu.loss()) / Math.abs(cpu.loss());
        return new Result(name, precision, maxRelative(gpu.logits(), cpu.logits()), loss, worst, worstName, compared,
                seconds);
    }

    static double maxRelative(float[] got, float[] want) {
        double max = 0;
        double err = 0;
        for (int i = 0; i < want.length; i++) {
            if (Float.isNaN(got[i]) || Float.isNaN(want[i])) {
                return Double.NaN;
            }
            max = Math.max(max, Math.abs(want[i]));
            err = Math.max(err, Math.abs((double) got[i] - want[i]));
        }
        return got.length != want.length || max == 0 ? Double.NaN : err / max;
    }

    static double normRelative(float[] got, float[] want) {
        double diff = 0;
        double ref = 0;
        for (int i = 0; i < want.length; i++) {
            diff += ((double) got[i] - want[i]) * ((double) got[i] - want[i]);
            ref += (double) want[i] * want[i];
        }
        return got.length != want.length ? Double.NaN : Math.sqrt(diff / ref);
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += (double) x * x;
        }
        return Math.sqrt(s);
    }
}
