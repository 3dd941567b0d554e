package nvlm.trainer.train;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import nvlm.model.Batch;
import nvlm.trainer.data.DataLoader;

/**
 * A {@link BatchSource} over a {@link DataLoader}: micro-batch {@code i} of step {@code s} is the
 * loader's batch number {@code g = (s - 1) * accumulation + i} counted across epochs (epoch
 * {@code g / batchesPerEpoch}), so the data a step sees is a pure function of the step, as resume
 * needs. While a step trains, the next micro-batch is drawn and encoded on a background thread
 * (drawing pictures costs about as much as a tiny model's step); the result is the same either way.
 */
public final class LoaderBatches implements BatchSource, AutoCloseable {
    private final DataLoader loader;
    private final int accumulation;
    private final ExecutorService prefetch;
    private final Object planLock = new Object();
    private long cachedEpoch = -1;
    private List<int[]> cachedPlan;
    private long pendingIndex = -1;
    private int stride = 1;
    private CompletableFuture<DataLoader.Loaded> pending;

    public LoaderBatches(DataLoader loader, int accumulation) {
        if (accumulation < 1) {
            throw new IllegalArgumentException("gradient accumulation must be >= 1, got " + accumulation);
        }
        this.loader = loader;
        this.accumulation = accumulation;
        this.prefetch = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "nvlm-batch-prefetch");
            t.setDaemon(true);
            return t;
        });
    }

    public DataLoader loader() {
        return loader;
    }

    @Override
    public synchronized Batch batch(long step, int microStep) {
        if (step < 1 || microStep < 0 || microStep >= accumulation) {
            throw new IllegalArgumentException("batch (step " + step + ", micro-step " + microStep + "): steps count from 1 and"
                    + " micro-steps from 0 below the accumulation " + accumulation);
        }
        long index = (step - 1) * accumulation + microStep;
        DataLoader.Loaded loaded;
        if (pending != null && pendingIndex == index) {
            loaded = join(pending);
        } else {
            loaded = load(index);
        }
        long next = index + stride;
        pendingIndex = next;
        pending = CompletableFuture.supplyAsync(() -> load(next), prefetch);
        return loaded.tensors();
    }

    @Override
    public synchronized void takeEvery(int stride) {
        if (stride < 1) {
            throw new IllegalArgumentException("takeEvery: stride must be >= 1, got " + stride);
        }
        this.stride = stride;
    }

    /** The loader's batch number {@code index}, counted across epochs. */
    public DataLoader.Loaded load(long index) {
        int perEpoch = loader.batchesPerEpoch();
        long epoch = index / perEpoch;
        int within = (int) (index % perEpoch);
        return loader.load(plan(epoch).get(within));
    }

    private List<int[]> plan(long epoch) {
        synchronized (planLock) {
            if (epoch != cachedEpoch) {
                cachedPlan = loader.plan(epoch);
                cachedEpoch = epoch;
            }
            return cachedPlan;
        }
    }

    private static DataLoader.Loaded join(CompletableFuture<DataLoader.Loaded> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a prefetched batch", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("prefetching a batch failed: " + cause.getMessage(), cause);
        }
    }

    @Override
    public void close() {
        prefetch.shutdownNow();
    }
}
