package nvlm.bench.gpu;

import nvlm.model.Batch;
import nvlm.model.Nvlm;
import nvlm.tensor.Backend;
import nvlm.tensor.Device;
import nvlm.tensor.MemoryScope;
import nvlm.tensor.Tensor;
import nvlm.tensor.optim.AdamW;

/**
 * One training step as tests/reference/bench_train.py times it: zero_grad, forward, loss,
 * backward and an AdamW step (betas 0.9/0.95, weight decay 0.05, docs/model.md §11's settings) over every
 * trainable parameter. Activations live in a memory scope per step, so device memory returns to
 * the allocator at the end of each step.
 */
public final class TrainingStep {
    private final Nvlm model;
    private final Batch batch;
    private final AdamW optimizer;

    public TrainingStep(Nvlm model, Batch batch, double lr) {
        this.model = model;
        this.batch = batch;
        this.optimizer = AdamW.of(model.trainableParameters(), lr, 0.9, 0.95, 1e-8, 0.05);
    }

    /** Runs one step; returns the loss tensor (a device scalar, escaped from the step's scope). */
    public Tensor run() {
        optimizer.zeroGrad();
        try (MemoryScope step = MemoryScope.open()) {
            Nvlm.Output out = model.forward(batch);
            out.loss().backward();
            optimizer.step();
            return MemoryScope.escape(out.loss().detach());
        }
    }

    /** Runs one step and waits for the device, so a host clock around it measures the step. */
    public float runAndWait(Device device) {
        Tensor loss = run();
        Backend.of(device).synchronize();
        return loss.item();
    }

    public Nvlm model() {
        return model;
    }
}
