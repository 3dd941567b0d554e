package nvlm.trainer.data;

/**
 * An indexed, deterministic collection of examples (PyTorch's map-style Dataset): {@code get(i)}
 * returns the same example every time.
 */
public interface ExampleSource {
    int size();

    Example get(int index);

    /** The example without pixels; sources that can tell sizes without drawing or decoding override it. */
    default Outline outline(int index) {
        return get(index).outline();
    }
}
