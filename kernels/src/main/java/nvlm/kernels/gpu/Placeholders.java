package nvlm.kernels.gpu;

import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.I8Buffer;

/**
 * Stand-ins the launchers pass for an optional buffer that is absent (a kernel has no null): the
 * kernel is told by a flag not to read it. A GPU runtime may pass a null device pointer for them.
 */
public final class Placeholders {
    private Placeholders() {
    }

    public static final F32Buffer F32 = F32Buffer.wrap(new float[1]);
    public static final I8Buffer I8 = I8Buffer.wrap(new byte[1]);

    /** Whether {@code buffer} is one of the placeholders. */
    public static boolean is(Object buffer) {
        return buffer == F32 || buffer == I8;
    }
}
