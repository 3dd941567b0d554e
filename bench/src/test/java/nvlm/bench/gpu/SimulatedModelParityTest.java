package nvlm.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import nvlm.cuda.backend.CudaBackend;
import nvlm.cuda.backend.MatmulPrecision;
import nvlm.cuda.backend.SimulatedAccelerator;
import nvlm.model.Batch;
import nvlm.model.Nvlm;
import nvlm.model.config.Architecture;
import nvlm.model.config.LlmConfig;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.SpecialTokens;
import nvlm.model.config.VisionConfig;
import nvlm.tensor.Device;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * NVLM-D, X and H forward and backward on the simulated CUDA device against the CPU backend: the
 * whole backend end to end (every op the models use, autograd on device tensors, memory scopes,
 * the optimizer) without a GPU. A micro model (the tiny preset's image and vocabulary, narrower
 * and shallower; the device check runs the tiny preset on the GPU) keeps the CPU executor's work
 * to seconds; its barrier kernels run one warp per block (see {@link SimulatedAccelerator}).
 */
class SimulatedModelParityTest {

    /** 56-pixel tiles of 14-pixel patches (4 tokens a tile), width 32, one ViT layer, two decoder layers. */
    static NvlmConfig micro(Architecture arch) {
        return new NvlmConfig(arch, "micro", new VisionConfig(56, 14, 32, 2, 1, 64, "rms_norm", 1e-6, true, false, 0),
                0.5, new NvlmConfig.ProjectorConfig(64, arch != Architecture.X),
                new LlmConfig(32, 2, 2, 1, 64, 320, 1e-6, 1e6, false), 2,
                new NvlmConfig.TilingConfig(1, 6, true, "1d"), SpecialTokens.project());
    }

    /** A 2x1-tile image (3 tiles with the thumbnail) in one row, a single tile in the other. */
    static Batch batch(NvlmConfig config) {
        return Batches.of(config, 3, new int[] {2, 1}, new int[] {1, 1});
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void logitsLossAndEveryGradientMatchTheCpuBackend(Architecture arch) throws Exception {
        NvlmConfig config = micro(arch);
        try (AutoCloseable device = CudaBackend.useAccelerator(new SimulatedAccelerator(true))) {
            ModelParity.Result result = ModelParity.compare("micro-" + arch, config, batch(config), 7, MatmulPrecision.F32);
            assertTrue(result.passed(), result.line());
        }
    }

    @Test
    void bf16MatrixProductsStayWithinBf16Tolerances() throws Exception {
        NvlmConfig config = micro(Architecture.H);
        try (AutoCloseable device = CudaBackend.useAccelerator(new SimulatedAccelerator(true))) {
            ModelParity.Result result = ModelParity.compare("micro-H", config, batch(config), 11, MatmulPrecision.BF16);
            assertTrue(result.passed(), result.line());
            // Rounding operands to bf16 must show (else the conversion was skipped).
            assertTrue(result.logits() > 1e-5, "bf16 products gave f32-exact logits: " + result.line());
        }
    }

    @Test
    void threeTrainingStepsOnTheDeviceFollowTheCpu() throws Exception {
        NvlmConfig config = micro(Architecture.X);
        Batch batch = batch(config);
        TrainingStep cpu = new TrainingStep(ModelParity.model(config, 5), batch, 1e-2);
        float[] cpuLosses = new float[3];
        for (int i = 0; i < cpuLosses.length; i++) {
            cpuLosses[i] = cpu.runAndWait(Device.CPU);
        }
        CudaBackend cuda = CudaBackend.instance();
        MatmulPrecision saved = cuda.matmulPrecision();
        try (AutoCloseable device = CudaBackend.useAccelerator(new SimulatedAccelerator(true))) {
            cuda.setMatmulPrecision(MatmulPrecision.F32);
            Nvlm model = ModelParity.model(config, 5);
            model.to(Device.CUDA);
            TrainingStep gpu = new TrainingStep(model, batch.to(Device.CUDA), 1e-2);
            for (int i = 0; i < cpuLosses.length; i++) {
                float loss = gpu.runAndWait(Device.CUDA);
                assertTrue(Math.abs(loss - cpuLosses[i]) <= 1e-4 * Math.abs(cpuLosses[i]),
                        "step " + i + ": loss " + loss + " on the device, " + cpuLosses[i] + " on the CPU");
            }
            // The parameters after three steps (each moved by about lr = 1e-2 per element).
            double worst = 0;
            String worstName = "";
            for (var e : cpu.model().namedParameters().entrySet()) {
                if (e.getKey().endsWith("k_proj.bias")) {
                    // A key bias shifts every score of a query row almost equally (exactly, but for
                    // RoPE's rotation), so softmax nearly ignores it: its gradient is small and its
                    // relative rounding large, and Adam scales each element to a +-lr step.
                    continue;
                }
                Parameter p = gpu.model().namedParameters().get(e.getKey());
                Tensor want = e.getValue().value();
                double err = ModelParity.normRelative(p.value().toFloatArray(), want.toFloatArray());
                if (err > worst) {
                    worst = err;
                    worstName = e.getKey();
                }
            }
            assertTrue(worst < 1e-4, "parameters differ after three steps: worst " + worstName + " " + worst);
        } finally {
            cuda.setMatmulPrecision(saved);
        }
    }
}
