package nvlm.kernels.translator;

/**
 * A launch grid: {@code gridX*gridY*gridZ} blocks of {@code blockX*blockY*blockZ} threads, as in
 * CUDA's {@code <<<grid, block>>>}. Limits are CUDA's (compute capability 7.0 and later).
 */
public record LaunchConfig(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ) {
    /** CUDA's limit on threads per block. */
    public static final int MAX_THREADS_PER_BLOCK = 1024;

    public LaunchConfig {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || blockX < 1 || blockY < 1 || blockZ < 1) {
            throw new IllegalArgumentException("launch dimensions must be positive, got " + describe(gridX, gridY,
                    gridZ, blockX, blockY, blockZ));
        }
        if (gridY > 65535 || gridZ > 65535) {
            throw new IllegalArgumentException("gridY and gridZ are at most 65535 in CUDA, got "
                    + describe(gridX, gridY, gridZ, blockX, blockY, blockZ));
        }
        if ((long) blockX * blockY * blockZ > MAX_THREADS_PER_BLOCK || blockZ > 64) {
            throw new IllegalArgumentException("a block has at most 1024 threads (blockZ at most 64), got "
                    + describe(gridX, gridY, gridZ, blockX, blockY, blockZ));
        }
    }

    /** {@code gridX} blocks of {@code blockX} threads. */
    public static LaunchConfig of(int gridX, int blockX) {
        return new LaunchConfig(gridX, 1, 1, blockX, 1, 1);
    }

    /** A {@code gridX x gridY} grid of blocks of {@code blockX} threads. */
    public static LaunchConfig of(int gridX, int gridY, int blockX) {
        return new LaunchConfig(gridX, gridY, 1, blockX, 1, 1);
    }

    /** Enough blocks of {@code blockX} threads to give one thread to each of {@code n} elements (at least one block). */
    public static LaunchConfig covering(long n, int blockX) {
        long blocks = Math.max(1, (n + blockX - 1) / blockX);
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("covering " + n + " elements with blocks of " + blockX
                    + " threads needs " + blocks + " blocks, more than gridX allows");
        }
        return of((int) blocks, blockX);
    }

    /** Number of blocks in the grid. */
    public long blocks() {
        return (long) gridX * gridY * gridZ;
    }

    /** Number of threads in one block. */
    public int threadsPerBlock() {
        return blockX * blockY * blockZ;
    }

    @Override
    public String toString() {
        return describe(gridX, gridY, gridZ, blockX, blockY, blockZ);
    }

    private static String describe(int gx, int gy, int gz, int bx, int by, int bz) {
        return "grid(" + gx + "," + gy + "," + gz + ") block(" + bx + "," + by + "," + bz + ")";
    }
}
