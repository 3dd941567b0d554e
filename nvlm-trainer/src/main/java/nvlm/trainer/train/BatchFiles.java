package nvlm.trainer.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import nvlm.model.Batch;
import nvlm.tensor.MemoryScope;

/**
 * Batches from a folder of docs/model.md §10 batch files ({@code *.safetensors}, e.g. written by
 * {@link Batch#write} or tests/reference/make_batch.py), taken in file-name order and cycled:
 * micro-batch j of step s is file {@code ((s - 1) * accumulation + j) mod N}. A pure function of
 * (step, micro-step), as {@link BatchSource} requires, so resuming needs no data state.
 */
public final class BatchFiles implements BatchSource {
    private final List<Path> files;
    private final int accumulation;

    private BatchFiles(List<Path> files, int accumulation) {
        this.files = files;
        this.accumulation = accumulation;
    }

    /**
     * The batch files of {@code dir} for a stage with {@code accumulation} micro-batches per step,
     * each read once here so that a file that is not a batch stops the run before it starts, named.
     */
    public static BatchFiles open(Path dir, int accumulation) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("batch folder " + dir + " does not exist");
        }
        List<Path> files;
        try (Stream<Path> entries = Files.list(dir)) {
            files = entries.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new IOException("batch folder " + dir + " holds no .safetensors batch files (docs/model.md §10 layout)");
        }
        for (Path file : files) {
            try (MemoryScope _ = MemoryScope.open()) { // its tensors are freed as soon as it is checked
                Batch.read(file);
            }
        }
        return new BatchFiles(files, accumulation);
    }

    public List<Path> files() {
        return files;
    }

    @Override
    public Batch batch(long step, int microStep) {
        long index = Math.floorMod((step - 1) * accumulation + microStep, (long) files.size());
        Path file = files.get((int) index);
        try {
            return Batch.read(file);
        } catch (IOException e) {
            throw new UncheckedIOException("step " + step + ", micro-batch " + microStep + ": cannot read " + file, e);
        }
    }
}
