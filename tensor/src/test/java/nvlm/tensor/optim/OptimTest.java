package nvlm.tensor.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Linear;
import nvlm.tensor.nn.Parameter;
import org.junit.jupiter.api.Test;

class OptimTest {

    @Test
    void cosineScheduleWarmsUpLinearlyThenDecaysToTheMinimum() {
        CosineSchedule s = new CosineSchedule(1e-3, 1e-5, 10, 110);
        assertEquals(1e-4, s.lr(1), 1e-12);
        assertEquals(1e-3, s.lr(10), 1e-12);
        assertEquals(1e-5 + 0.5 * (1e-3 - 1e-5), s.lr(60), 1e-12);
        assertEquals(1e-5, s.lr(110), 1e-12);
        assertEquals(1e-5, s.lr(500), 1e-12);
        for (int i = 11; i < 110; i++) {
            assertTrue(s.lr(i + 1) <= s.lr(i));
        }
        assertThrows(IllegalArgumentException.class, () -> new CosineSchedule(1, 0, 20, 10));
    }

    @Test
    void clipGlobalNormScalesAllGradientsTogether() {
        Linear lin = new Linear(3, 2, true, new Random(1));
        lin.forward(Tensor.ones(4, 3)).mul(10).sum().backward();
        List<Parameter> params = lin.parameters();
        double sq = 0;
        for (Parameter p : params) {
            for (float g : p.grad().toFloatArray()) {
                sq += g * g;
            }
        }
        double norm = GradClip.clipGlobalNorm(params, 1.0);
        assertEquals(Math.sqrt(sq), norm, 1e-3);
        double after = 0;
        for (Parameter p : params) {
            for (float g : p.grad().toFloatArray()) {
                after += g * g;
            }
        }
        assertEquals(1.0, Math.sqrt(after), 1e-4);
    }

    @Test
    void weightDecayOnlyTouchesItsGroup() {
        Linear lin = new Linear(2, 2, true, new Random(3));
        float[] biasBefore = lin.bias().value().toFloatArray();
        AdamW opt = new AdamW(List.of(
                new AdamW.Group(List.of(lin.weight()), 0.1, 0.5, 0.9, 0.999, 1e-8),
                new AdamW.Group(List.of(lin.bias()), 0.1, 0.0, 0.9, 0.999, 1e-8)));
        // Zero gradients: only weight decay moves parameters.
        lin.weight().value().setGrad(Tensor.zeros(2, 2));
        lin.bias().value().setGrad(Tensor.zeros(2));
        float[] wBefore = lin.weight().value().toFloatArray();
        opt.step();
        float[] wAfter = lin.weight().value().toFloatArray();
        for (int i = 0; i < 4; i++) {
            assertEquals(wBefore[i] * (1 - 0.1f * 0.5f), wAfter[i], 1e-7);
        }
        assertArrayEquals(biasBefore, lin.bias().value().toFloatArray());
    }

    @Test
    void stateDictRoundTripContinuesIdentically() {
        Linear a = new Linear(3, 3, true, new Random(5));
        Linear b = new Linear(3, 3, true, new Random(5));
        AdamW optA = AdamW.of(a.parameters(), 1e-2, 0.9, 0.95, 1e-8, 0.1);
        AdamW optB = AdamW.of(b.parameters(), 1e-2, 0.9, 0.95, 1e-8, 0.1);
        Tensor x = Tensor.randn(new Random(2), 4, 3);
        for (int i = 0; i < 2; i++) {
            a.zeroGrad();
            a.forward(x).square().sum().backward();
            optA.step();
        }
        b.loadStateDict(a.stateDict(), true);
        Map<String, Tensor> saved = optA.stateDict(a.namedParameters());
        optB.loadStateDict(saved, b.namedParameters());
        assertEquals(2, optB.stepCount());
        for (Linear m : List.of(a, b)) {
            m.zeroGrad();
            m.forward(x).square().sum().backward();
        }
        optA.step();
        optB.step();
        assertArrayEquals(a.weight().value().toFloatArray(), b.weight().value().toFloatArray());
    }
}
