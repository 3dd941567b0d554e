package nvlm.kernels.translator;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * What a kernel thread knows about its place in the launch grid, modelled on HAT's
 * {@code KernelContext}: every method is an intrinsic that the CUDA translation replaces.
 *
 * <table>
 * <caption>Ids and sizes (per axis x, y, z) and their CUDA meaning</caption>
 * <tr><td>{@code gix()}</td><td>global thread id: {@code blockIdx.x * blockDim.x + threadIdx.x}</td></tr>
 * <tr><td>{@code gsx()}</td><td>global size: {@code gridDim.x * blockDim.x}</td></tr>
 * <tr><td>{@code lix()}</td><td>local id within the block: {@code threadIdx.x}</td></tr>
 * <tr><td>{@code lsx()}</td><td>local size, threads per block: {@code blockDim.x}</td></tr>
 * <tr><td>{@code bix()}</td><td>block id: {@code blockIdx.x}</td></tr>
 * <tr><td>{@code bsx()}</td><td>number of blocks: {@code gridDim.x}</td></tr>
 * </table>
 *
 * <p>{@link #barrier()} is {@code __syncthreads()}. {@link #sharedF32(int)} and
 * {@link #sharedI32(int)} declare block-shared memory ({@code __shared__} arrays): the size must
 * be a compile-time constant and the call must come before the kernel's first branch or loop, so
 * that every thread of the block declares the same arrays in the same order. Shared memory
 * starts with unspecified contents (on the CPU: NaN for floats, -1 for ints).
 *
 * <p>Instances exist only while a kernel runs on the CPU, one per kernel thread.
 */
public final class KernelContext {
    /** Block-wide state on the CPU: the shared arrays and the barrier. */
    static final class Block {
        private final List<Buffer> shared = new ArrayList<>();
        final BlockBarrier barrier;

        Block(BlockBarrier barrier) {
            this.barrier = barrier;
        }

        synchronized Buffer shared(int ordinal, int length, boolean isFloat) {
            if (ordinal < shared.size()) {
                Buffer existing = shared.get(ordinal);
                if (existing.length() != length || (existing instanceof F32Buffer) != isFloat) {
                    throw new IllegalStateException("shared array #" + ordinal + " declared as "
                            + (isFloat ? "F32" : "I32") + "[" + length + "] by one thread and as " + existing
                            + " by another thread of the same block");
                }
                return existing;
            }
            MemorySegment memory = MemorySegment.ofArray(new int[length]);
            // Unspecified contents on the GPU: poison them (NaN, -1) so kernels that read before writing fail tests.
            memory.fill((byte) 0xff);
            Buffer buffer = isFloat ? F32Buffer.of(memory) : I32Buffer.of(memory);
            shared.add(buffer);
            return buffer;
        }
    }

    private final int gridX, gridY, gridZ, blockX, blockY, blockZ;
    private final int blockIdX, blockIdY, blockIdZ, threadIdX, threadIdY, threadIdZ;
    private final Block block;
    private int sharedDeclared;

    KernelContext(LaunchConfig config, int blockIdX, int blockIdY, int blockIdZ,
                  int threadIdX, int threadIdY, int threadIdZ, Block block) {
        this.gridX = config.gridX();
        this.gridY = config.gridY();
        this.gridZ = config.gridZ();
        this.blockX = config.blockX();
        this.blockY = config.blockY();
        this.blockZ = config.blockZ();
        this.blockIdX = blockIdX;
        this.blockIdY = blockIdY;
        this.blockIdZ = blockIdZ;
        this.threadIdX = threadIdX;
        this.threadIdY = threadIdY;
        this.threadIdZ = threadIdZ;
        this.block = block;
    }

    public int gix() {
        return blockIdX * blockX + threadIdX;
    }

    public int giy() {
        return blockIdY * blockY + threadIdY;
    }

    public int giz() {
        return blockIdZ * blockZ + threadIdZ;
    }

    public int gsx() {
        return gridX * blockX;
    }

    public int gsy() {
        return gridY * blockY;
    }

    public int gsz() {
        return gridZ * blockZ;
    }

    public int lix() {
        return threadIdX;
    }

    public int liy() {
        return threadIdY;
    }

    public int liz() {
        return threadIdZ;
    }

    public int lsx() {
        return blockX;
    }

    public int lsy() {
        return blockY;
    }

    public int lsz() {
        return blockZ;
    }

    public int bix() {
        return blockIdX;
    }

    public int biy() {
        return blockIdY;
    }

    public int biz() {
        return blockIdZ;
    }

    public int bsx() {
        return gridX;
    }

    public int bsy() {
        return gridY;
    }

    public int bsz() {
        return gridZ;
    }

    /**
     * Waits until every thread of the block has reached this barrier ({@code __syncthreads()}).
     * Threads that have returned no longer take part, as on current GPUs.
     */
    public void barrier() {
        if (block.barrier == null) {
            throw new IllegalStateException("barrier() called by a kernel that was launched without barriers; "
                    + "the kernel's bytecode analysis missed a call (a bug in nvlm.kernels.translator)");
        }
        block.barrier.await();
    }

    /** Declares a block-shared float array of {@code length} elements (a compile-time constant). */
    public F32Buffer sharedF32(int length) {
        return (F32Buffer) block.shared(sharedDeclared++, length, true);
    }

    /** Declares a block-shared int array of {@code length} elements (a compile-time constant). */
    public I32Buffer sharedI32(int length) {
        return (I32Buffer) block.shared(sharedDeclared++, length, false);
    }
}
