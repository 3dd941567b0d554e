package nvlm.trainer.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AxisTicksTest {
    @Test
    void ticksAreNiceStepsCoveringTheRange() {
        AxisTicks unit = AxisTicks.nice(0, 1, 6);
        assertEquals(0.2, unit.step(), 1e-12);
        assertEquals(List.of("0.0", "0.2", "0.4", "0.6", "0.8", "1.0"), unit.values().stream().map(unit::label).toList());

        AxisTicks steps = AxisTicks.nice(3, 397, 8);
        assertEquals(50, steps.step(), 1e-12);
        assertEquals(0, steps.min(), 1e-12);
        assertEquals(400, steps.max(), 1e-12);
        assertEquals("150", steps.label(150));

        AxisTicks quarter = AxisTicks.nice(0, 1.3, 6);
        assertEquals(0.25, quarter.step(), 1e-12);
        assertEquals("0.25", quarter.label(0.25));
    }

    @Test
    void tinyLearningRatesGetScientificLabels() {
        AxisTicks lr = AxisTicks.nice(0, 1e-4, 6);
        assertEquals(2e-5, lr.step(), 1e-18);
        assertEquals("4.0e-05", lr.label(4e-5));
        assertEquals("0.0e+00", lr.label(0));
    }

    @Test
    void aDegenerateOrInvalidRangeIsWidened() {
        AxisTicks flat = AxisTicks.nice(2.5, 2.5, 5);
        assertTrue(flat.min() < 2.5 && flat.max() > 2.5, flat.toString());
        AxisTicks zero = AxisTicks.nice(0, 0, 5);
        assertTrue(zero.min() <= -1 && zero.max() >= 1, zero.toString());
        AxisTicks nan = AxisTicks.nice(Double.NaN, 3, 5);
        assertEquals(0, nan.min(), 1e-12);
        assertEquals(1, nan.max(), 1e-12);
    }
}
