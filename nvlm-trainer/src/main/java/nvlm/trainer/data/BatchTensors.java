package nvlm.trainer.data;

import nvlm.model.Batch;
import nvlm.tensor.Tensor;

/** The collated arrays of {@link nvlm.model.prompt.Batch} as the tensor {@link Batch} the models take (spec 10 names and dtypes). */
public final class BatchTensors {
    private BatchTensors() {
    }

    public static Batch of(nvlm.model.prompt.Batch b) {
        long rows = b.rows();
        long length = b.length();
        return new Batch(
                Tensor.of(b.inputIds(), rows, length),
                Tensor.of(b.labels(), rows, length),
                Tensor.of(b.pixelValues(), b.tiles(), 3, b.tileSize(), b.tileSize()),
                Tensor.of(b.imageTiles(), b.images()),
                Tensor.of(b.imageRow(), b.images()),
                Tensor.of(b.tileTagIds(), b.tiles(), b.tagLength()),
                Tensor.of(b.mediaImage(), rows, length),
                Tensor.of(b.mediaTile(), rows, length));
    }
}
