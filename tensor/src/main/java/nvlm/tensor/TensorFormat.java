package nvlm.tensor;

import java.util.Locale;
import nvlm.kernels.DType;

/** PyTorch-like text of a tensor, elided (first and last 3 per dimension) past 1000 elements. */
final class TensorFormat {
    private static final int ELIDE_ABOVE = 1000;
    private static final int EDGE = 3;

    private TensorFormat() {
    }

    static String format(Tensor t) {
        long[] shape = t.shape();
        boolean elide = t.numel() > ELIDE_ABOVE;
        boolean integral = !t.dtype().isFloatingPoint();
        Tensor host = t.detach().to(Device.CPU);
        double[] values = integral ? longsAsDoubles(host.toLongArray()) : floatsAsDoubles(host.toFloatArray());
        String[] cells = new String[values.length];
        String pattern = pattern(values, integral, t.dtype() == DType.BOOL);
        int width = 0;
        for (int i = 0; i < values.length; i++) {
            cells[i] = cell(values[i], pattern, t.dtype());
            width = Math.max(width, cells[i].length());
        }
        StringBuilder sb = new StringBuilder("tensor(");
        if (shape.length == 0) {
            sb.append(cells[0].strip());
        } else {
            long[] strides = Shape.contiguousStrides(shape);
            append(sb, cells, width, shape, strides, 0, 0, elide, "tensor(".length());
        }
        if (shape.length != 1 || elide || values.length == 0) {
            sb.append(", shape=").append(Shape.str(shape));
        }
        if (t.dtype() != DType.F32 && t.dtype() != DType.I64) {
            sb.append(", dtype=").append(t.dtype());
        }
        if (t.device() != Device.CPU) {
            sb.append(", device=").append(t.device().name().toLowerCase(Locale.ROOT));
        }
        if (t.gradFn() != null) {
            sb.append(", grad_fn=").append(t.gradFn().name());
        } else if (t.requiresGrad()) {
            sb.append(", requires_grad=true");
        }
        return sb.append(')').toString();
    }

    private static void append(StringBuilder sb, String[] cells, int width, long[] shape, long[] strides,
                               int dim, long base, boolean elide, int indent) {
        sb.append('[');
        long n = shape[dim];
        boolean cut = elide && n > 2 * EDGE;
        for (long i = 0; i < n; i++) {
            if (cut && i == EDGE) {
                sb.append(dim == shape.length - 1 ? "..., " : "...,\n" + " ".repeat(indent + dim + 1));
                i = n - EDGE;
            }
            if (dim == shape.length - 1) {
                String c = cells[(int) (base + i * strides[dim])];
                sb.append(" ".repeat(width - c.length())).append(c);
            } else {
                append(sb, cells, width, shape, strides, dim + 1, base + i * strides[dim], elide, indent);
            }
            if (i < n - 1) {
                sb.append(',');
                if (dim == shape.length - 1) {
                    sb.append(' ');
                } else {
                    sb.append("\n".repeat(shape.length - 1 - dim)).append(" ".repeat(indent + dim + 1));
                }
            }
        }
        sb.append(']');
    }

    private static String pattern(double[] values, boolean integral, boolean bool) {
        if (integral || bool) {
            return "int";
        }
        double maxAbs = 0;
        double minAbs = Double.POSITIVE_INFINITY;
        boolean allInts = true;
        for (double v : values) {
            if (!Double.isFinite(v)) {
                continue;
            }
            double a = Math.abs(v);
            maxAbs = Math.max(maxAbs, a);
            if (a > 0) {
                minAbs = Math.min(minAbs, a);
            }
            if (v != Math.rint(v)) {
                allInts = false;
            }
        }
        if (allInts && maxAbs < 1e8) {
            return "%.0f.";
        }
        if (maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs != Double.POSITIVE_INFINITY) || maxAbs / minAbs > 1e6) {
            return "%.4e";
        }
        return "%.4f";
    }

    private static String cell(double v, String pattern, DType dtype) {
        if (dtype == DType.BOOL) {
            return v != 0 ? "true" : "false";
        }
        if (pattern.equals("int")) {
            return Long.toString((long) v);
        }
        if (Double.isNaN(v)) {
            return "nan";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        return String.format(Locale.ROOT, pattern, v);
    }

    private static double[] floatsAsDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    private static double[] longsAsDoubles(long[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
