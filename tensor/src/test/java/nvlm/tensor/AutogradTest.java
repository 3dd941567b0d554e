package nvlm.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AutogradTest {

    @Test
    void gradientsAccumulateAcrossBackwardCalls() {
        Tensor x = Tensor.of(new float[] {1, 2, 3}).requiresGrad(true);
        x.mul(x).sum().backward();
        assertArrayEquals(new float[] {2, 4, 6}, x.grad().toFloatArray());
        x.mul(3).sum().backward();
        assertArrayEquals(new float[] {5, 7, 9}, x.grad().toFloatArray());
    }

    @Test
    void sharedSubexpressionsSumTheirPaths() {
        Tensor x = Tensor.of(new float[] {2}).requiresGrad(true);
        Tensor y = x.mul(x);          // x^2
        Tensor z = y.mul(y).add(y);   // x^4 + x^2
        z.sum().backward();
        assertEquals(4 * 8 + 2 * 2, x.grad().item(), 1e-4);
    }

    @Test
    void noGradScopeRecordsNothing() {
        Tensor x = Tensor.ones(3).requiresGrad(true);
        Tensor y;
        try (var noGrad = GradMode.disabled()) {
            y = x.mul(2);
        }
        assertTrue(!y.requiresGrad() && y.gradFn() == null);
        assertThrows(IllegalStateException.class, () -> y.sum().backward());
        assertTrue(GradMode.isEnabled());
    }

    @Test
    void detachAndFrozenLeavesGetNoGradient() {
        Tensor w = Tensor.ones(3).requiresGrad(true);
        Tensor frozen = Tensor.ones(3).requiresGrad(false);
        Tensor loss = w.detach().mul(w).add(frozen.mul(w)).sum();
        loss.backward();
        assertArrayEquals(new float[] {2, 2, 2}, w.grad().toFloatArray());
        assertNull(frozen.grad());
    }

    @Test
    void secondBackwardThroughAFreedGraphIsAClearError() {
        Tensor x = Tensor.ones(2).requiresGrad(true);
        Tensor loss = x.exp().sum();
        loss.backward();
        var e = assertThrows(IllegalStateException.class, loss::backward);
        assertTrue(e.getMessage().contains("second time"), e.getMessage());
    }

    @Test
    void inPlaceOnATensorThatRequiresGradIsRefused() {
        Tensor x = Tensor.ones(2).requiresGrad(true);
        assertThrows(IllegalStateException.class, () -> x.add_(Tensor.ones(2)));
        try (var noGrad = GradMode.disabled()) {
            x.add_(Tensor.ones(2));
        }
        assertArrayEquals(new float[] {2, 2}, x.toFloatArray());
    }

    @Test
    void deepChainsDoNotOverflowTheStack() {
        Tensor x = Tensor.ones(1).requiresGrad(true);
        Tensor y = x;
        for (int i = 0; i < 20000; i++) {
            y = y.mul(1.0);
        }
        y.sum().backward();
        assertEquals(1f, x.grad().item());
    }

    @Test
    void postAccumulateGradHookRunsOnceWithTheWholeGradientWhileBackwardGoesOn() {
        // loss = sum(a * x) with x = b * c: backward reaches a first, then x's node, then b and c.
        Tensor a = Tensor.of(new float[] {1, 2}).requiresGrad(true);
        Tensor b = Tensor.of(new float[] {3, 4}).requiresGrad(true);
        Tensor c = Tensor.of(new float[] {5, 6}).requiresGrad(true);
        java.util.List<String> events = new java.util.ArrayList<>();
        java.util.List<float[]> seen = new java.util.ArrayList<>();
        // a is used twice: its hook must run after both contributions, with their sum.
        a.registerPostAccumulateGradHook(t -> {
            events.add("a:" + (b.grad() == null ? "b pending" : "b done"));
            seen.add(t.grad().toFloatArray());
        });
        b.registerPostAccumulateGradHook(t -> events.add("b"));
        a.mul(b.mul(c)).add(a).sum().backward();
        assertEquals(java.util.List.of("a:b pending", "b"), events);
        assertArrayEquals(new float[] {16, 25}, seen.getFirst());
        assertArrayEquals(new float[] {16, 25}, a.grad().toFloatArray());
    }

    @Test
    void removedPostAccumulateGradHookDoesNotRunAndNonLeavesRefuseOne() {
        Tensor w = Tensor.of(new float[] {1, 2}).requiresGrad(true);
        int[] runs = {0};
        var handle = w.registerPostAccumulateGradHook(t -> runs[0]++);
        w.mul(3).sum().backward();
        assertEquals(1, runs[0]);
        handle.remove();
        w.mul(2).sum().backward();
        assertEquals(1, runs[0], "a removed hook does not run");
        assertThrows(IllegalStateException.class, () -> w.mul(2).registerPostAccumulateGradHook(t -> { }));
        assertThrows(IllegalStateException.class, () -> Tensor.ones(2).registerPostAccumulateGradHook(t -> { }));
    }
}
