package nvlm.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import nvlm.kernels.DType;
import nvlm.tensor.nn.Init;
import nvlm.tensor.nn.Linear;
import org.junit.jupiter.api.Test;

class MappedTensorTest {
    private static Tensor bf16Copy(Tensor f32, Arena arena) {
        Tensor b = f32.to(DType.BF16).contiguous();
        MemorySegment seg = arena.allocate(b.numel() * 2, 2);
        seg.copyFrom(b.segment());
        return Tensor.mapped(seg.asReadOnly(), DType.BF16, b.shape());
    }

    @Test
    void mappedBf16WeightGivesTheSameLinearOutputAsAPoolCopy() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = Tensor.randn(new SplittableRandom(1), 5, 7);
            Tensor x = Tensor.randn(new SplittableRandom(2), 3, 7);
            Tensor mapped = bf16Copy(w, arena);
            Tensor copied = w.to(DType.BF16);
            assertArrayEquals(F.linear(x, copied, null).toFloatArray(), F.linear(x, mapped, null).toFloatArray());
        }
    }

    @Test
    void embeddingOfAMappedBf16TableReadsOnlyTheNamedRowsAndMatchesTheWidenedTable() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor table = Tensor.randn(new SplittableRandom(3), 11, 4);
            Tensor mapped = bf16Copy(table, arena);
            Tensor ids = Tensor.of(new long[] {3, 0, 10, 3}, 2, 2);
            Tensor expected = F.embedding(ids, table.to(DType.BF16).to(DType.F32));
            Tensor actual;
            try (var noGrad = GradMode.disabled()) {
                actual = F.embedding(ids, mapped);
            }
            assertArrayEquals(new long[] {2, 2, 4}, actual.shape());
            assertArrayEquals(expected.toFloatArray(), actual.toFloatArray());
            try (var noGrad = GradMode.disabled()) {
                assertThrows(IndexOutOfBoundsException.class, () -> F.embedding(Tensor.of(new long[] {11}), mapped));
            }
        }
    }

    @Test
    void aSkeletonHasShapesButNoMemoryAndSaysSoWhenRead() {
        Linear skeleton = Init.shapesOnly(() -> new Linear(1 << 20, 1 << 20, true, new SplittableRandom(0)));
        assertArrayEquals(new long[] {1 << 20, 1 << 20}, skeleton.weight().value().shape());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> skeleton.weight().value().narrow(0, 0, 1).narrow(1, 0, 4).toFloatArray());
        assertTrue(e.getMessage().contains("shape only"), e.getMessage());
        // Outside the scope, initialisation allocates again.
        assertEquals(3, new Linear(2, 3, false, new SplittableRandom(0)).weight().value().toFloatArray().length / 2);
    }

    @Test
    void mappedRejectsASegmentOfTheWrongSize() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(10, 2);
            assertThrows(IllegalArgumentException.class, () -> Tensor.mapped(seg, DType.BF16, 2, 3));
        }
    }
}
