package nvlm.trainer.experiment;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import nvlm.model.config.Architecture;
import nvlm.model.Batch;
import nvlm.model.Nvlm;
import nvlm.model.checkpoint.Checkpoint;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.model.prompt.BatchArrays;
import nvlm.model.prompt.Sample;
import nvlm.model.tokenizer.ProjectTokenizer;
import nvlm.tensor.Backend;
import nvlm.tensor.Device;
import nvlm.tensor.MemoryScope;
import nvlm.tensor.optim.AdamW;
import nvlm.trainer.data.Family;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.TaskBlend;
import nvlm.trainer.data.WorldConfig;
import nvlm.trainer.data.WorldDataset;

/**
 * Training speed of one architecture: full steps (forward, backward, AdamW over everything but
 * the frozen vision encoder) on a fixed batch of rows that each hold one 6+1-tile image (a 3x2
 * OCR board of the synthetic world), the setting of the paper's Table 3.
 */
public final class TrainingThroughput {
    /** Median seconds per step and the resulting samples per second. */
    public record Result(Architecture architecture, String preset, int rows, long tokensPerRow, double secondsPerStep,
                         double samplesPerSecond) {
    }

    private final Nvlm model;
    private final Batch batch;
    private final Device device;
    private final AdamW optimizer;

    public TrainingThroughput(Architecture arch, String preset, int rows, long seed, Device device) {
        NvlmConfig config = Presets.get(preset, arch);
        this.device = device;
        this.model = Nvlm.create(config, new SplittableRandom(seed));
        SyntheticWorld world = new SyntheticWorld(WorldConfig.forModel(config, seed));
        WorldDataset data = new WorldDataset(world, Split.TRAIN, TaskBlend.single(Family.OCR), rows);
        SampleEncoder encoder = SampleEncoder.forConfig(config, ProjectTokenizer.instance(), SampleEncoder.Options.defaults());
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            samples.add(encoder.encode(data.get(i)));
        }
        this.batch = Batch.of(BatchArrays.collate(samples, encoder.padId())).to(device);
        model.to(device);
        model.visionModel().trainable(false);
        this.optimizer = AdamW.of(model.trainableParameters(), 1e-4, 0.9, 0.95, 1e-8, 0.05);
    }

    public Nvlm model() {
        return model;
    }

    public Batch batch() {
        return batch;
    }

    /** Writes the model folder and the batch file, for a peer to time the same work. */
    public void save(Path modelDir, Path batchFile) throws IOException {
        Checkpoint.save(model, modelDir);
        batch.write(batchFile);
    }

    /**
     * Runs at least {@code warmup} untimed steps, and more until the JIT has settled (the last
     * three warm-up steps within 15% of each other, or two minutes spent), then {@code steps}
     * timed ones; the median step decides. The Vector API kernels are slow until C2 compiles
     * them, which takes many steps on two busy cores. {@code stepsDone} follows the timed steps.
     */
    public Result measure(int warmup, int steps, IntConsumer stepsDone) {
        warmUp(warmup);
        double[] seconds = new double[steps];
        for (int s = 0; s < steps; s++) {
            seconds[s] = step();
            stepsDone.accept(s + 1);
        }
        return result(seconds);
    }

    /** The untimed part of {@link #measure}: at least {@code warmup} steps, more until settled. */
    public void warmUp(int warmup) {
        List<Double> warm = new ArrayList<>();
        long warmStart = System.nanoTime();
        while (warm.size() < warmup || (!settled(warm) && System.nanoTime() - warmStart < 120e9)) {
            warm.add(step());
        }
    }

    /** The result of these timed steps (their median decides). */
    public Result result(double[] seconds) {
        double[] sorted = seconds.clone();
        Arrays.sort(sorted);
        double median = sorted[sorted.length / 2];
        return new Result(model.config().architecture(), model.config().preset(), (int) batch.rows(), batch.length(), median,
                batch.rows() / median);
    }

    private static boolean settled(List<Double> times) {
        if (times.size() < 3) {
            return false;
        }
        List<Double> last = times.subList(times.size() - 3, times.size());
        double min = last.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        double max = last.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        return max <= 1.15 * min;
    }

    /** One full training step (forward, backward, AdamW); returns its seconds. */
    public double step() {
        long start = System.nanoTime();
        try (var scope = MemoryScope.open()) {
            model.zeroGrad();
            model.forward(batch).loss().backward();
            optimizer.step();
        }
        Backend.of(device).synchronize();
        return (System.nanoTime() - start) / 1e9;
    }
}
