package nvlm.trainer.train;

import java.util.ArrayList;
import java.util.List;
import nvlm.comm.Communicator;
import nvlm.comm.Work;
import nvlm.kernels.DType;
import nvlm.tensor.GradMode;
import nvlm.tensor.MemoryScope;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Parameter;

/**
 * Data-parallel gradient sums overlapped with the backward pass, as PyTorch DDP's {@code Reducer}
 * does: the parameters are grouped into buckets of about {@code bucketBytes}, in reverse
 * registration order (the backward pass reaches the last layers first), and a bucket's
 * non-blocking all-reduce ({@link Communicator#allReduceAsync}) starts as soon as the backward
 * pass has finished every gradient in it (a post-accumulate-grad hook on each parameter), while
 * the backward pass goes on through the earlier layers. {@link #finish()} waits for all of them
 * before the optimizer step.
 *
 * <p>Every rank must start the same all-reduces in the same order, but the ranks' backward passes
 * need not finish the parameters in the same order (their micro-batches differ): bucket {@code b}
 * therefore starts only once buckets {@code 0..b-1} have started, as in DDP. A parameter that a
 * rank's backward did not reach is sent as zeros with a presence flag of 0; each bucket carries
 * one flag per parameter after its gradients, and the summed flags say which parameters some rank
 * has a gradient for: one that no rank's backward reached keeps a null gradient (so AdamW skips
 * it, as in a single process), the others get the sum. Summing in buckets changes only how the
 * elements are grouped into messages, not which numbers are added: with two ranks each element is
 * {@code a + b} either way, so the result is bit-identical to {@link DataParallel#allReduceGradients}.
 *
 * <p>Use per optimizer step: {@link #begin()}, then {@link #armHooks()} around the backward pass
 * of this rank's last micro-batch of the step (earlier ones only accumulate, like DDP's
 * {@code no_sync}), then {@link #launchRemaining()} on every rank (also one that skipped its
 * backward), then {@link #finish()}.
 */
public final class Reducer {
    private final Communicator comm;
    private final List<Parameter> params;
    /** Parameter indices of each bucket, in the order their gradients are packed. */
    private final int[][] buckets;
    /** The bucket of each parameter. */
    private final int[] bucketOf;
    /** Elements of gradients in each bucket (its presence flags follow them). */
    private final long[] bucketElements;
    /** Each bucket's flat F32 buffer, made at the first step and kept (outside any memory scope). */
    private final Tensor[] flat;

    // The state of the current step.
    private final int[] readyInBucket;
    private final boolean[] ready;
    private final Work[] work;
    private int launched;
    private int polled;
    private int launchedByHooks;
    private boolean inStep;

    /** Buckets of at most {@code bucketBytes} of F32 gradients (a bigger parameter gets a bucket of its own). */
    public Reducer(Communicator comm, List<Parameter> params, long bucketBytes) {
        if (bucketBytes < 4) {
            throw new IllegalArgumentException("gradient buckets: the bucket size must be at least 4 bytes, got " + bucketBytes);
        }
        if (params.isEmpty()) {
            throw new IllegalArgumentException("gradient buckets: no trainable parameters to reduce");
        }
        this.comm = comm;
        this.params = List.copyOf(params);
        long capacity = bucketBytes / 4;
        List<int[]> plan = new ArrayList<>();
        List<Integer> current = new ArrayList<>();
        long elements = 0;
        for (int i = this.params.size() - 1; i >= 0; i--) {
            long n = this.params.get(i).value().numel();
            if (!current.isEmpty() && elements + n > capacity) {
                plan.add(current.stream().mapToInt(Integer::intValue).toArray());
                current.clear();
                elements = 0;
            }
            current.add(i);
            elements += n;
        }
        plan.add(current.stream().mapToInt(Integer::intValue).toArray());
        this.buckets = plan.toArray(int[][]::new);
        this.bucketOf = new int[this.params.size()];
        this.bucketElements = new long[buckets.length];
        for (int b = 0; b < buckets.length; b++) {
            for (int i : buckets[b]) {
                bucketOf[i] = b;
                bucketElements[b] += this.params.get(i).value().numel();
            }
        }
        this.flat = new Tensor[buckets.length];
        this.readyInBucket = new int[buckets.length];
        this.ready = new boolean[this.params.size()];
        this.work = new Work[buckets.length];
    }

    /** Number of buckets. */
    public int bucketCount() {
        return buckets.length;
    }

    /** The buckets whose all-reduce the last step started during its backward pass (the rest started after it). */
    public int launchedDuringBackward() {
        return launchedByHooks;
    }

    /** Starts a step: no bucket is ready or in flight. */
    public void begin() {
        if (inStep) {
            throw new IllegalStateException("gradient buckets: a step began while the previous step's all-reduces"
                    + " were not finished (finish() was not called)");
        }
        java.util.Arrays.fill(readyInBucket, 0);
        java.util.Arrays.fill(ready, false);
        java.util.Arrays.fill(work, null);
        launched = 0;
        polled = 0;
        launchedByHooks = 0;
        inStep = true;
    }

    /**
     * Registers, until the returned handle is closed, a hook on every parameter that marks its
     * gradient final when the backward pass has added its last contribution, and starts the
     * all-reduce of each bucket that this completes (in bucket order). Arm only the backward pass
     * of this rank's last micro-batch of the step: after it no gradient changes.
     */
    public Tensor.RemovableHandle armHooks() {
        requireInStep("armHooks");
        List<Tensor.RemovableHandle> handles = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            int index = i;
            Tensor value = params.get(i).value();
            if (value.requiresGrad()) {
                handles.add(value.registerPostAccumulateGradHook(_ -> markReady(index)));
            }
        }
        return () -> handles.forEach(Tensor.RemovableHandle::remove);
    }

    private void markReady(int index) {
        if (ready[index]) {
            return;
        }
        ready[index] = true;
        readyInBucket[bucketOf[index]]++;
        int before = launched;
        while (launched < buckets.length && readyInBucket[launched] == buckets[launched].length) {
            launch(launched++);
        }
        launchedByHooks += launched - before;
        // Open MPI moves a non-blocking collective on only inside MPI calls: test the oldest one in flight.
        while (polled < launched && work[polled].isCompleted()) {
            polled++;
        }
    }

    /** Starts the all-reduce of every bucket not started yet, in order. Every rank calls it once per step. */
    public void launchRemaining() {
        requireInStep("launchRemaining");
        while (launched < buckets.length) {
            launch(launched++);
        }
    }

    /**
     * Waits for every bucket's all-reduce and writes the sums back into the gradients (a
     * parameter that no rank has a gradient for keeps a null one). Ends the step.
     */
    public void finish() {
        requireInStep("finish");
        launchRemaining();
        try (var _ = GradMode.disabled()) {
            for (int b = 0; b < buckets.length; b++) {
                work[b].await();
                unpack(b);
            }
        } finally {
            inStep = false;
        }
    }

    /**
     * Ends a step whose gradients will be dropped (a stop request, a non-finite loss): waits for
     * the all-reduces already started, without writing their sums back.
     */
    public void abandon() {
        requireInStep("abandon");
        try {
            for (int b = 0; b < launched; b++) {
                work[b].await();
            }
        } finally {
            inStep = false;
        }
    }

    /** Copies the bucket's gradients (zeros where this rank has none) and presence flags into its buffer and starts its sum. */
    private void launch(int b) {
        int[] members = buckets[b];
        if (flat[b] == null) {
            Tensor first = params.get(members[0]).value();
            flat[b] = MemoryScope.runIn(null, () -> Tensor.empty(first.device(), DType.F32, bucketElements[b] + members.length));
        }
        Tensor buffer = flat[b];
        float[] flags = new float[members.length];
        try (var _ = GradMode.disabled()) {
            long offset = 0;
            for (int k = 0; k < members.length; k++) {
                Tensor value = params.get(members[k]).value();
                Tensor slice = buffer.narrow(0, offset, value.numel());
                Tensor grad = value.grad();
                if (grad == null) {
                    slice.zero_();
                } else {
                    slice.copy_(grad.reshape(value.numel()));
                    flags[k] = 1;
                }
                offset += value.numel();
            }
            buffer.narrow(0, offset, members.length).copy_(Tensor.of(flags).to(buffer.device()));
        }
        work[b] = comm.allReduceAsync(buffer);
    }

    private void unpack(int b) {
        int[] members = buckets[b];
        Tensor buffer = flat[b];
        float[] present = buffer.narrow(0, bucketElements[b], members.length).toFloatArray();
        long offset = 0;
        for (int k = 0; k < members.length; k++) {
            Tensor value = params.get(members[k]).value();
            long n = value.numel();
            if (present[k] > 0) {
                Tensor sum = buffer.narrow(0, offset, n).view(value.shape());
                if (value.grad() == null) {
                    // Another rank's backward reached it, this one's did not: the gradient belongs
                    // with its parameter, so it lives in the parameter's scope, as autograd's do.
                    value.setGrad(MemoryScope.runIn(value.storage().scope(), sum::contiguousCopy));
                } else {
                    value.grad().copy_(sum);
                }
            }
            offset += n;
        }
    }

    private void requireInStep(String call) {
        if (!inStep) {
            throw new IllegalStateException("gradient buckets: " + call + "() outside a step (call begin() first)");
        }
    }
}
