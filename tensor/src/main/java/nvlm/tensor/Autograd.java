package nvlm.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import nvlm.kernels.DType;

/** Reverse-mode differentiation over the recorded {@link Node} graph. */
final class Autograd {
    private Autograd() {
    }

    /** Records {@code node} as the producer of {@code out} if grad mode is on and an input needs a gradient. */
    static Tensor record(Tensor out, String name, Tensor[] inputs, Node.Backward backward) {
        if (!GradMode.isEnabled()) {
            return out;
        }
        boolean any = false;
        for (Tensor t : inputs) {
            if (t != null && t.requiresGrad()) {
                any = true;
                break;
            }
        }
        if (!any) {
            return out;
        }
        Tensor[] tracked = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            tracked[i] = inputs[i] != null && inputs[i].requiresGrad() ? inputs[i] : null;
        }
        out.setGradFn(new Node(name, tracked, backward));
        return out;
    }

    /** Accumulates d(root)/d(leaf) into every leaf's {@code grad}, seeding with {@code seed}. */
    static void backward(Tensor root, Tensor seed) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward() on a tensor that does not require grad"
                    + " (no input of its computation has requiresGrad(true), or it was computed under GradMode.disabled())");
        }
        if (!Arrays.equals(seed.shape(), root.shape())) {
            throw new IllegalArgumentException("backward seed shape " + Shape.str(seed.shape())
                    + " differs from the tensor's shape " + Shape.str(root.shape()));
        }
        try (var noGrad = GradMode.disabled()) {
            if (root.gradFn() == null) {
                accumulateLeaf(root, seed);
                root.runPostAccumulateGradHooks();
                return;
            }
            List<Node> order = topologicalOrder(root.gradFn());
            // Hooked leaves: the edges into each that are still to be processed; at zero its gradient is final.
            Map<Tensor, int[]> pendingEdges = hookedLeafEdges(order);
            Map<Node, Tensor> grads = new IdentityHashMap<>();
            grads.put(root.gradFn(), seed);
            for (Node node : order) {
                Tensor g = grads.remove(node);
                // No gradient reached this node (all paths contributed nothing): its edges carry none.
                Tensor[] inputGrads = g == null ? null : node.apply(g);
                for (int i = 0; i < node.inputs.length; i++) {
                    Tensor input = node.inputs[i];
                    Tensor gi = inputGrads == null ? null : inputGrads[i];
                    if (input == null) {
                        continue;
                    }
                    if (gi != null && !Arrays.equals(gi.shape(), input.shape())) {
                        throw new IllegalStateException("autograd: '" + node.name() + "' produced a gradient of shape "
                                + Shape.str(gi.shape()) + " for input " + i + " of shape " + Shape.str(input.shape()));
                    }
                    if (input.gradFn() == null) {
                        if (gi != null) {
                            accumulateLeaf(input, gi);
                        }
                        int[] pending = pendingEdges.get(input);
                        if (pending != null && --pending[0] == 0) {
                            input.runPostAccumulateGradHooks();
                        }
                    } else if (gi != null) {
                        Tensor previous = grads.get(input.gradFn());
                        grads.put(input.gradFn(), previous == null ? gi : previous.add(gi));
                    }
                }
            }
        }
    }

    /** For each leaf with post-accumulate-grad hooks, the number of edges of {@code order}'s nodes into it. */
    private static Map<Tensor, int[]> hookedLeafEdges(List<Node> order) {
        Map<Tensor, int[]> edges = new IdentityHashMap<>();
        for (Node node : order) {
            for (Tensor input : node.inputs) {
                if (input != null && input.gradFn() == null && input.hasPostAccumulateGradHooks()) {
                    edges.computeIfAbsent(input, _ -> new int[1])[0]++;
                }
            }
        }
        return edges;
    }

    private static void accumulateLeaf(Tensor leaf, Tensor g) {
        Tensor existing = leaf.grad();
        if (existing == null) {
            Tensor spare = leaf.takeSpareGrad();
            if (spare != null && spare.dtype() == DType.F32 && spare.device() == g.device()
                    && spare.isContiguous() && Arrays.equals(spare.shape(), leaf.shape())) {
                leaf.setGrad(spare.copy_(g)); // same values as the fresh copy below, no allocation
                return;
            }
            // The gradient belongs with its parameter: allocate it in the leaf's own scope so it
            // outlives the step scope the backward pass runs in.
            Tensor copy = MemoryScope.runIn(leaf.storage().scope(), () -> g.to(DType.F32).contiguousCopy());
            leaf.setGrad(copy);
        } else {
            existing.add_(g);
        }
    }

    /** Nodes so that each comes before the nodes it feeds gradients to (root first). */
    private static List<Node> topologicalOrder(Node root) {
        List<Node> postOrder = new ArrayList<>();
        Set<Node> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        visited.add(root);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Node node = (Node) frame[0];
            int next = (Integer) frame[1];
            if (next < node.inputs.length) {
                frame[1] = next + 1;
                Tensor input = node.inputs[next];
                if (input != null && input.gradFn() != null && visited.add(input.gradFn())) {
                    stack.push(new Object[] {input.gradFn(), 0});
                }
            } else {
                stack.pop();
                postOrder.add(node);
            }
        }
        Collections.reverse(postOrder);
        return postOrder;
    }
}
