package nvlm.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Deterministic release of tensor memory: every storage allocated on a thread while a scope is
 * open belongs to the innermost open scope, and is released when that scope closes. A training
 * step runs inside a scope, so activations and temporaries go back to the pool at the end of the
 * step instead of waiting for the GC.
 *
 * <pre>{@code
 * try (var step = MemoryScope.open()) {
 *     Tensor loss = model.loss(batch);
 *     loss.backward();          // parameter gradients live in the parameters' own scope
 *     optimizer.step();
 *     return MemoryScope.escape(loss.detach());   // keep one result beyond the scope
 * }
 * }</pre>
 *
 * Storages made outside any scope are released by the GC (convenient in jshell).
 * Scopes are per thread and must be closed in the reverse order of opening.
 */
public final class MemoryScope implements AutoCloseable {
    private static final ThreadLocal<MemoryScope> CURRENT = new ThreadLocal<>();

    private final MemoryScope parent;
    private final Thread owner;
    private final List<Storage> storages = new ArrayList<>();
    private boolean closed;

    private MemoryScope(MemoryScope parent) {
        this.parent = parent;
        this.owner = Thread.currentThread();
    }

    /** Opens a scope nested in the current one (if any) and makes it current on this thread. */
    public static MemoryScope open() {
        MemoryScope scope = new MemoryScope(CURRENT.get());
        CURRENT.set(scope);
        return scope;
    }

    /** The innermost open scope of this thread, or null. */
    public static MemoryScope current() {
        return CURRENT.get();
    }

    /** Runs {@code body} with {@code scope} as the current scope (null: outside any scope, GC-managed). */
    public static <T> T runIn(MemoryScope scope, Supplier<T> body) {
        MemoryScope saved = CURRENT.get();
        CURRENT.set(scope);
        try {
            return body.get();
        } finally {
            CURRENT.set(saved);
        }
    }

    /** Called by backends for every storage they allocate while this scope is current. */
    public void register(Storage storage) {
        if (closed) {
            throw new IllegalStateException("allocation in a closed MemoryScope");
        }
        storage.scope = this;
        storages.add(storage);
    }

    /**
     * Moves a tensor's storage to the enclosing scope (or to the GC when this is the outermost
     * scope), so it survives this scope's close. Returns the tensor.
     */
    public static Tensor escape(Tensor tensor) {
        Storage storage = tensor.storage();
        MemoryScope scope = storage.scope;
        if (scope != null) {
            scope.storages.remove(storage);
            storage.scope = null;
            if (scope.parent != null) {
                scope.parent.register(storage);
            } else {
                Backend.of(storage.device()).releaseWhenUnreachable(storage);
            }
        }
        return tensor;
    }

    /**
     * Runs one block of a forward pass (a transformer layer) in a scope of its own when autograd
     * is off: the block's temporaries go back to the pool as soon as it returns, and only its
     * result survives (in the enclosing scope). Inference over many layers then holds one layer's
     * temporaries at a time instead of all of them (a 6+1-tile prompt through InternViT-300M
     * reached 18 GB without this). With autograd on, backward needs the temporaries, so the block
     * runs in the current scope.
     */
    public static Tensor block(Supplier<Tensor> body) {
        if (GradMode.isEnabled()) {
            return body.get();
        }
        MemoryScope scope = open();
        try {
            Tensor out = body.get();
            if (out.storage().scope == scope) {
                escape(out);
            }
            return out;
        } finally {
            scope.close();
        }
    }

    /** Bytes currently owned by this scope. */
    public long bytes() {
        long total = 0;
        for (Storage s : storages) {
            total += s.byteSize();
        }
        return total;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("MemoryScope closed on " + Thread.currentThread().getName()
                    + " but opened on " + owner.getName());
        }
        if (CURRENT.get() != this) {
            throw new IllegalStateException("MemoryScope closed out of order: an inner scope is still open");
        }
        closed = true;
        for (int i = storages.size() - 1; i >= 0; i--) {
            storages.get(i).release();
        }
        storages.clear();
        CURRENT.set(parent);
    }
}
