package nvlm.cuda;

/** A grid or block shape, as in CUDA's {@code dim3}. */
public record Dim3(int x, int y, int z) {
    public Dim3 {
        if (x <= 0 || y <= 0 || z <= 0) {
            throw new IllegalArgumentException("dim3 extents must be positive, got (" + x + ", " + y + ", " + z + ")");
        }
    }

    public static Dim3 of(int x) {
        return new Dim3(x, 1, 1);
    }

    public static Dim3 of(int x, int y) {
        return new Dim3(x, y, 1);
    }

    public static Dim3 of(int x, int y, int z) {
        return new Dim3(x, y, z);
    }

    /** Enough blocks of {@code blockSize} to cover {@code n} elements: ceil(n / blockSize). */
    public static Dim3 covering(long n, int blockSize) {
        long blocks = Math.max(1, Math.ceilDiv(n, blockSize));
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(n + " elements need " + blocks + " blocks of " + blockSize
                    + ", more than a grid's x extent holds");
        }
        return of((int) blocks);
    }

    public long count() {
        return (long) x * y * z;
    }
}
