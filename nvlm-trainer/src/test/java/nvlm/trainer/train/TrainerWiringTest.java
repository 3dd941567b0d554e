package nvlm.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import nvlm.kernels.DType;
import nvlm.model.Batch;
import nvlm.model.Nvlm;
import nvlm.model.config.Architecture;
import nvlm.tensor.MemoryScope;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Parameter;
import nvlm.tensor.optim.AdamW;
import nvlm.tensor.optim.CosineSchedule;
import nvlm.tensor.optim.GradClip;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nvlm.trainer.recipe.Stage;
import nvlm.trainer.recipe.StageConfig;
import nvlm.trainer.recipe.PaperRecipe;

/** The loop does exactly: accumulate, clip to clipNorm, lr = schedule(step), AdamW, zero grads. */
class TrainerWiringTest {
    @TempDir
    Path dir;

    @Test
    void eachStepIsAccumulateClipScheduleAdamWBitForBit() throws Exception {
        Architecture arch = Architecture.X;
        double clip = 0.05; // small enough that every step clips
        StageConfig config = PaperRecipe.toy(arch, Stage.SFT).withSteps(5, 2).withBatch(2, 2).withClipNorm(clip)
                .withLearningRates(2e-2, 2e-3);
        BatchSource source = TinyWorld.source(arch, 8, 2);
        Path run = dir.resolve("run");
        Trainer trainer = Trainer.start(TinyWorld.model(arch, 6), config, source, run, TrainerOptions.quiet(0));
        trainer.run();

        // The same step written out by hand from the engine's primitives.
        Nvlm model = TinyWorld.model(arch, 6);
        Stage.SFT.applyTo(model);
        List<Parameter> params = model.trainableParameters();
        AdamW optimizer = new AdamW(ParameterGroups.of(model, config));
        CosineSchedule schedule = new CosineSchedule(2e-2, 2e-3, 2, 5);
        List<Map<String, Object>> records = MetricsLog.read(run.resolve(MetricsLog.FILE)).stream()
                .filter(r -> "train".equals(r.get("type"))).toList();
        assertEquals(5, records.size());
        for (int step = 1; step <= 5; step++) {
            double loss = 0;
            double norm;
            try (var _ = MemoryScope.open()) {
                Batch[] batches = {source.batch(step, 0), source.batch(step, 1)};
                long total = Trainer.labelledTokens(batches[0]) + Trainer.labelledTokens(batches[1]);
                for (Batch b : batches) {
                    Tensor l = model.forward(b).loss();
                    double w = (double) Trainer.labelledTokens(b) / total;
                    loss += w * l.item();
                    l.backward(Tensor.full(l.device(), DType.F32, w));
                }
                norm = GradClip.clipGlobalNorm(params, clip);
                optimizer.setLearningRate(schedule.lr(step));
                optimizer.step();
                optimizer.zeroGrad();
            }
            Map<String, Object> r = records.get(step - 1);
            assertEquals((long) step, r.get("step"));
            assertEquals(schedule.lr(step), (Double) r.get("lr"), 0.0, "lr of step " + step);
            assertEquals(norm, (Double) r.get("grad_norm"), 0.0, "pre-clip gradient norm of step " + step);
            assertTrue(norm > clip, "step " + step + " clips (norm " + norm + ")");
            assertEquals(loss, (Double) r.get("loss"), 0.0, "loss of step " + step);
        }
        assertEquals(List.of(), TinyWorld.differing(TinyWorld.snapshot(model), TinyWorld.snapshot(trainer.model())));
        // Warmup is linear from 0, the cosine ends at min_lr.
        assertEquals(1e-2, schedule.lr(1), 1e-15);
        assertEquals(2e-2, schedule.lr(2), 1e-15);
        assertEquals(2e-3, schedule.lr(5), 1e-15);
    }

    @Test
    void weightDecayGoesToMatricesOnlyNotToGatesNormsBiasesOrTheClassToken() {
        Nvlm model = TinyWorld.model(Architecture.H, 1);
        model.trainable(true);
        StageConfig config = PaperRecipe.toy(Architecture.H, Stage.SFT);
        List<AdamW.Group> groups = ParameterGroups.of(model, config);
        assertEquals(2, groups.size());
        assertEquals(config.weightDecay(), groups.get(0).weightDecay());
        assertEquals(0.0, groups.get(1).weightDecay());
        Map<String, Parameter> named = model.namedParameters();
        for (String name : List.of("language_model.model.xattn_layers.0.attn_gate", "language_model.model.xattn_layers.0.ff_gate",
                "language_model.model.layers.0.input_layernorm.weight", "language_model.model.layers.0.self_attn.q_proj.bias",
                "mlp1.0.weight", "mlp1.0.bias", "mlp1.1.bias", "vision_model.encoder.layers.0.ls1",
                "vision_model.embeddings.class_embedding", "vision_model.embeddings.patch_embedding.bias")) {
            assertTrue(groups.get(1).params().contains(named.get(name)), name + " is not decayed");
        }
        for (String name : List.of("language_model.model.embed_tokens.weight", "language_model.lm_head.weight",
                "language_model.model.layers.0.self_attn.q_proj.weight", "language_model.model.xattn_layers.0.attn.k_proj.weight",
                "mlp1.1.weight", "mlp1.3.weight", "vision_model.embeddings.patch_embedding.weight",
                "vision_model.embeddings.position_embedding")) {
            assertTrue(groups.get(0).params().contains(named.get(name)), name + " is decayed");
        }
    }
}
