/*
 * The peer of ./nvlm bench allreduce: Open MPI's MPI_Allreduce called from C on the same sizes,
 * iteration counts and timing as nvlm.bench.AllReduceBench's Java ranks (in-place float sum, ITERATIONS/4 + 2
 * untimed calls, then ITERATIONS timed ones between barriers; the slowest rank's mean counts).
 *   mpicc -O2 -o allreduce_peer allreduce_peer.c
 *   mpirun -n 2 ./allreduce_peer MIN_BYTES MAX_BYTES
 * Prints "BYTES ITERATIONS SECONDS_PER_CALL" per size on rank 0.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int iterations(long bytes) {
    /* the same rule as AllReduceBench.iterations */
    long n = (64L << 20) / bytes;
    return n < 3 ? 3 : n > 200 ? 200 : (int) n;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    long min = argc > 1 ? atol(argv[1]) : 1024;
    long max = argc > 2 ? atol(argv[2]) : 256L << 20;
    float *buf = calloc(max / 4, sizeof(float)); /* zeros, as the Java ranks' tensor */
    /* 2000 untimed calls of the smallest size and one untimed sweep first, as the Java ranks
       (whose JIT compiles meanwhile) */
    for (int i = 0; i < 2000; i++) MPI_Allreduce(MPI_IN_PLACE, buf, (int) (min / 4), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    for (int sweep = 0; sweep < 2; sweep++) {
      for (long bytes = min; bytes <= max; bytes *= 2) {
        int count = (int) (bytes / 4), n = iterations(bytes);
        for (int i = 0; i < n / 4 + 2; i++) MPI_Allreduce(MPI_IN_PLACE, buf, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        MPI_Barrier(MPI_COMM_WORLD);
        double start = MPI_Wtime();
        for (int i = 0; i < n; i++) MPI_Allreduce(MPI_IN_PLACE, buf, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        double mine = (MPI_Wtime() - start) / n, slowest;
        MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        if (rank == 0 && sweep == 1) printf("%ld %d %.9e\n", bytes, n, slowest);
        fflush(stdout);
      }
    }
    free(buf);
    MPI_Finalize();
    return 0;
}
