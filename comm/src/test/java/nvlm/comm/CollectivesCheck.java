package nvlm.comm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import nvlm.kernels.DType;
import nvlm.tensor.Tensor;

/**
 * Run under mpirun by {@link MpiCommunicatorTest}: every collective of the MPI communicator on
 * every rank, against a naive reference that each rank computes from all ranks' inputs (which it
 * can regenerate, since rank r's data is drawn from seed r). Prints "ok rank R" or the
 * differences, and exits 0 or 1.
 */
public final class CollectivesCheck {
    private CollectivesCheck() {
    }

    static float[] data(int rank, int n, int salt) {
        SplittableRandom rng = new SplittableRandom(1000L * salt + rank);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        return out;
    }

    public static void main(String[] args) {
        Communicator comm = World.join();
        int rank = comm.rank();
        int size = comm.size();
        List<String> failures = new ArrayList<>();
        if (size < 2) {
            failures.add("expected at least 2 ranks, got " + size + " (" + comm + ")");
        }

        // all-reduce sum and max, 6 x 5 F32
        int n = 30;
        float[] sum = new float[n];
        float[] max = new float[n];
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
        for (int r = 0; r < size; r++) {
            float[] d = data(r, n, 1);
            for (int i = 0; i < n; i++) {
                sum[i] += d[i];
                max[i] = Math.max(max[i], d[i]);
            }
        }
        Tensor t = Tensor.of(data(rank, n, 1), 6, 5);
        comm.allReduce(t);
        compare("allReduce SUM", t.toFloatArray(), sum, 1e-6f, failures);
        Tensor m = Tensor.of(data(rank, n, 1), 6, 5);
        comm.allReduce(m, Reduction.MAX);
        compare("allReduce MAX", m.toFloatArray(), max, 0f, failures);

        // non-blocking all-reduce: two in flight at once, interleaved with a blocking one, finished
        // in the other order; each must equal the blocking sum bit for bit
        Tensor early = Tensor.of(data(rank, n, 1), 6, 5);
        Tensor second = Tensor.of(data(rank, 1 << 16, 5), 1 << 16);
        Work earlyWork = comm.allReduceAsync(early);
        Work secondWork = comm.allReduceAsync(second);
        Tensor between = Tensor.of(data(rank, n, 1), 6, 5);
        comm.allReduce(between);
        secondWork.await();
        earlyWork.await();
        if (!earlyWork.isCompleted() || !secondWork.isCompleted()) {
            failures.add("allReduceAsync: a work is not completed after await()");
        }
        compare("allReduceAsync vs allReduce", early.toFloatArray(), t.toFloatArray(), 0f, failures);
        compare("allReduce between two allReduceAsync", between.toFloatArray(), t.toFloatArray(), 0f, failures);
        float[] secondSum = new float[1 << 16];
        for (int r = 0; r < size; r++) {
            float[] d = data(r, 1 << 16, 5);
            for (int i = 0; i < d.length; i++) {
                secondSum[i] += d[i];
            }
        }
        compare("allReduceAsync 64K", second.toFloatArray(), secondSum, 1e-6f, failures);

        // all-reduce of I64 counts and of host doubles
        Tensor counts = Tensor.of(new long[] {rank + 1, 10L * rank}, 2);
        comm.allReduce(counts);
        long[] c = counts.toLongArray();
        long expectA = (long) size * (size + 1) / 2;
        long expectB = 10L * size * (size - 1) / 2;
        if (c[0] != expectA || c[1] != expectB) {
            failures.add("allReduce I64: got " + Arrays.toString(c) + ", expected [" + expectA + ", " + expectB + "]");
        }
        double[] host = {rank + 0.5, -rank};
        comm.allReduce(host, Reduction.SUM);
        if (host[0] != size * (size - 1) / 2.0 + 0.5 * size || host[1] != -(size * (size - 1) / 2.0)) {
            failures.add("allReduce double[]: got " + Arrays.toString(host));
        }

        // reduce-scatter: sum of [size*2, 3], this rank keeps rows 2r, 2r+1
        int rows = size * 2;
        float[] full = new float[rows * 3];
        for (int r = 0; r < size; r++) {
            float[] d = data(r, rows * 3, 2);
            for (int i = 0; i < d.length; i++) {
                full[i] += d[i];
            }
        }
        Tensor scattered = comm.reduceScatter(Tensor.of(data(rank, rows * 3, 2), rows, 3));
        if (!Arrays.equals(scattered.shape(), new long[] {2, 3})) {
            failures.add("reduceScatter shape " + Arrays.toString(scattered.shape()));
        }
        compare("reduceScatter", scattered.toFloatArray(), Arrays.copyOfRange(full, rank * 6, rank * 6 + 6), 1e-6f, failures);

        // all-gather: [2, 4] per rank -> [2*size, 4] in rank order
        Tensor gathered = comm.allGather(Tensor.of(data(rank, 8, 3), 2, 4));
        float[] expected = new float[8 * size];
        for (int r = 0; r < size; r++) {
            System.arraycopy(data(r, 8, 3), 0, expected, r * 8, 8);
        }
        if (!Arrays.equals(gathered.shape(), new long[] {2L * size, 4})) {
            failures.add("allGather shape " + Arrays.toString(gathered.shape()));
        }
        compare("allGather", gathered.toFloatArray(), expected, 0f, failures);

        // broadcast from the last rank
        int root = size - 1;
        Tensor b = Tensor.of(data(rank, 7, 4), 7);
        comm.broadcast(b, root);
        compare("broadcast", b.toFloatArray(), data(root, 7, 4), 0f, failures);

        // a view that is not contiguous is refused with its shape named
        try {
            comm.allReduce(Tensor.of(data(rank, 6, 5), 2, 3).t());
            failures.add("allReduce of a transposed view was accepted");
        } catch (IllegalArgumentException expectedFailure) {
            if (!expectedFailure.getMessage().contains("contiguous")) {
                failures.add("allReduce of a view: unclear message " + expectedFailure.getMessage());
            }
        }
        try {
            comm.allReduce(Tensor.zeros(2).to(DType.BF16));
            failures.add("allReduce of BF16 was accepted");
        } catch (IllegalArgumentException expectedFailure) {
            // named in the message; nothing was sent
        }

        // split into singletons and pairs (the TP x DP grid): each sub-group sums its own members
        try (Communicator pairs = comm.split(rank / 2, rank)) {
            Tensor one = Tensor.of(new float[] {rank}, 1);
            pairs.allReduce(one);
            int first = (rank / 2) * 2;
            float exp = 0;
            for (int r = first; r < Math.min(first + 2, size); r++) {
                exp += r;
            }
            if (pairs.rank() != rank % 2 || one.toFloatArray()[0] != exp) {
                failures.add("split: rank " + pairs.rank() + " sum " + one.toFloatArray()[0] + ", expected " + (rank % 2) + ", " + exp);
            }
        }
        comm.barrier();

        if (failures.isEmpty()) {
            System.out.println("ok rank " + rank + " of " + size);
            System.exit(0);
        }
        failures.forEach(f -> System.out.println("FAIL rank " + rank + ": " + f));
        System.exit(1);
    }

    private static void compare(String what, float[] got, float[] expected, float tolerance, List<String> failures) {
        if (got.length != expected.length) {
            failures.add(what + ": " + got.length + " values, expected " + expected.length);
            return;
        }
        for (int i = 0; i < got.length; i++) {
            if (Math.abs(got[i] - expected[i]) > tolerance) {
                failures.add(what + ": element " + i + " is " + got[i] + ", expected " + expected[i]);
                return;
            }
        }
    }
}
