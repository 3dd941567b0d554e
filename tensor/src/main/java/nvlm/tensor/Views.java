package nvlm.tensor;

/** Stride arithmetic for views. */
final class Views {
    private Views() {
    }

    /**
     * Strides that let {@code newShape} view the same elements as (shape, strides) in row-major
     * order, or null when a copy is needed. PyTorch's {@code computeStride}: dimensions are
     * grouped into chunks that are contiguous among themselves; a view may split or merge
     * dimensions only within a chunk.
     */
    static long[] viewStrides(long[] shape, long[] strides, long[] newShape) {
        long numel = Shape.numel(shape);
        if (numel == 0 || shape.length == 0) {
            return Shape.contiguousStrides(newShape);
        }
        long[] newStrides = new long[newShape.length];
        int viewD = newShape.length - 1;
        long chunkBaseStride = strides[strides.length - 1];
        long tensorNumel = 1;
        long viewNumel = 1;
        for (int tensorD = shape.length - 1; tensorD >= 0; tensorD--) {
            tensorNumel *= shape[tensorD];
            boolean chunkEnds = tensorD == 0
                    || (shape[tensorD - 1] != 1 && strides[tensorD - 1] != tensorNumel * chunkBaseStride);
            if (chunkEnds) {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1)) {
                    newStrides[viewD] = viewNumel * chunkBaseStride;
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) {
                    return null;
                }
                if (tensorD > 0) {
                    chunkBaseStride = strides[tensorD - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        return viewD == -1 ? newStrides : null;
    }
}
