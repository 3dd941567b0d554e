package nvlm.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Views must address exactly the elements a naive index computation says they do. */
class ViewsTest {

    /** Value of element (i0, i1, ...) of a row-major tensor filled with 0, 1, 2, ... */
    private static float iota(long[] shape, long... index) {
        long flat = 0;
        for (int d = 0; d < shape.length; d++) {
            flat = flat * shape[d] + index[d];
        }
        return flat;
    }

    private static Tensor iotaTensor(long... shape) {
        float[] v = new float[Math.toIntExact(Shape.numel(shape))];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        return Tensor.of(v, shape);
    }

    @Test
    void permuteThenContiguousMatchesIndexMapping() {
        qt().withExamples(60).forAll(longs().between(1, 5), longs().between(1, 7), longs().between(1, 4), longs().between(0, 5))
                .checkAssert((a, b, c, perm) -> {
                    long[] shape = {a, b, c};
                    int[][] perms = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
                    int[] p = perms[(int) (long) perm];
                    float[] got = iotaTensor(shape).permute(p).contiguous().toFloatArray();
                    long[] ps = {shape[p[0]], shape[p[1]], shape[p[2]]};
                    int k = 0;
                    for (long i = 0; i < ps[0]; i++) {
                        for (long j = 0; j < ps[1]; j++) {
                            for (long l = 0; l < ps[2]; l++) {
                                long[] src = new long[3];
                                src[p[0]] = i;
                                src[p[1]] = j;
                                src[p[2]] = l;
                                assertEquals(iota(shape, src), got[k++]);
                            }
                        }
                    }
                });
    }

    @Test
    void narrowOfTransposeAndReshapeAgreeWithNaiveIndexing() {
        qt().withExamples(60).forAll(longs().between(1, 9), longs().between(1, 9), integers().between(0, 1000))
                .checkAssert((rows, cols, seed) -> {
                    Random r = new Random(seed);
                    long start = r.nextInt((int) (long) cols);
                    long len = 1 + r.nextInt((int) (cols - start));
                    Tensor view = iotaTensor(rows, cols).t().narrow(0, start, len); // [len, rows]
                    float[] got = view.reshape(-1).toFloatArray();
                    int k = 0;
                    for (long i = 0; i < len; i++) {
                        for (long j = 0; j < rows; j++) {
                            assertEquals(iota(new long[] {rows, cols}, j, start + i), got[k++]);
                        }
                    }
                });
    }

    @Test
    void copyIntoReusesTheArrayAndMatchesToFloatArrayForAnyView() {
        qt().withExamples(40).forAll(longs().between(1, 6), longs().between(1, 6), integers().between(0, 1000))
                .checkAssert((rows, cols, seed) -> {
                    Tensor view = Tensor.randn(new java.util.SplittableRandom(seed), rows, cols).transpose(0, 1);
                    float[] out = new float[Math.toIntExact(rows * cols)];
                    Arrays.fill(out, Float.NaN);
                    view.copyInto(out);
                    assertArrayEquals(view.toFloatArray(), out);
                });
        var e = assertThrows(IllegalArgumentException.class, () -> iotaTensor(2, 3).copyInto(new float[5]));
        assertTrue(e.getMessage().contains("6 elements") && e.getMessage().contains("5"), e.getMessage());
    }

    @Test
    void reshapeIsAViewWhenStridesAllowAndACopyOtherwise() {
        Tensor x = iotaTensor(2, 3, 4);
        Tensor merged = x.reshape(6, 4);
        assertSame(x.storage(), merged.storage());
        Tensor split = x.permute(1, 0, 2).reshape(3, 2, 2, 2); // splits the last dim only: still a view
        assertSame(x.storage(), split.storage());
        Tensor t = x.transpose(1, 2);
        assertThrows(IllegalStateException.class, () -> t.view(2, 12));
        Tensor copied = t.reshape(2, 12);
        assertTrue(copied.storage() != x.storage());
        assertArrayEquals(t.contiguous().toFloatArray(), copied.toFloatArray());
    }

    @Test
    void expandBroadcastsWithoutCopying() {
        Tensor row = Tensor.of(new float[] {1, 2, 3}, 1, 3);
        Tensor e = row.expand(4, 3);
        assertSame(row.storage(), e.storage());
        assertArrayEquals(new long[] {0, 1}, e.strides());
        assertArrayEquals(new float[] {1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3}, e.contiguous().toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).expand(4, 3));
    }

    @Test
    void catAndSplitAreInverse() {
        qt().withExamples(40).forAll(longs().between(1, 4), longs().between(1, 5), longs().between(1, 5), integers().between(0, 1))
                .checkAssert((a, b, c, dim) -> {
                    Tensor x = Tensor.randn(new Random(a * 100 + b * 10 + c), a, b + c);
                    var parts = x.split(1, b, c);
                    assertArrayEquals(x.toFloatArray(), Tensor.cat(1, parts).toFloatArray());
                    Tensor y = Tensor.randn(new Random(7), a, b);
                    Tensor stacked = Tensor.stack(dim, java.util.List.of(y, y.mul(2)));
                    assertEquals(2, stacked.size(dim));
                    assertArrayEquals(y.mul(2).toFloatArray(), stacked.select(dim, 1).contiguous().toFloatArray());
                });
    }

    @Test
    void dtypeConversionsRoundTrip() {
        Tensor ids = Tensor.of(new long[] {0, -5, 151654, 1L << 40});
        assertArrayEquals(ids.toLongArray(), ids.to(nvlm.kernels.DType.F32).to(nvlm.kernels.DType.I64).toLongArray(),
                "I64 -> F32 -> I64 is exact below 2^24 and for powers of two");
        Tensor x = Tensor.of(new float[] {1.5f, -2.25f, 3e-3f});
        float[] bf = x.to(nvlm.kernels.DType.BF16).toFloatArray();
        for (int i = 0; i < bf.length; i++) {
            assertEquals(x.toFloatArray()[i], bf[i], Math.abs(x.toFloatArray()[i]) / 128);
        }
        Tensor mask = x.gt(0);
        assertEquals(nvlm.kernels.DType.BOOL, mask.dtype());
        assertArrayEquals(new long[] {1, 0, 1}, mask.toLongArray());
    }

    @Test
    void toStringLooksLikePyTorch() {
        assertEquals("tensor([1., 2., 3.])", Tensor.of(new float[] {1, 2, 3}).toString());
        assertEquals("tensor([[ 0.5000, -1.2500],\n        [ 2.0000,  3.0000]], shape=[2, 2])",
                Tensor.of(new float[] {0.5f, -1.25f, 2, 3}, 2, 2).toString());
        assertEquals("tensor([0, 7])", Tensor.of(new long[] {0, 7}).toString());
        String big = Tensor.zeros(40, 40).toString();
        assertTrue(big.contains("...") && big.length() < 800, big);
        assertTrue(Tensor.ones(2).requiresGrad(true).mul(2).toString().endsWith("grad_fn=affine)"));
    }

    @Test
    void badShapesAreReportedByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).add(Tensor.zeros(4)));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4]"), e.getMessage());
        var m = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).matmul(Tensor.zeros(2, 3)));
        assertTrue(m.getMessage().contains("inner dimensions"), m.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(6).reshape(4, -1));
        assertTrue(Arrays.equals(new long[] {3, 2}, Tensor.zeros(6).reshape(3, -1).shape()));
    }
}
