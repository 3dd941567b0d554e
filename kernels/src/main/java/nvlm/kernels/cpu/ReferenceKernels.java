package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import nvlm.kernels.DType;

/**
 * The slow, obvious versions of every kernel in this package except GEMM and attention: scalar
 * loops, no threads, and double precision throughout (inputs widened, one rounding to f32 at
 * the end), so a fast kernel's error against its reference is the fast kernel's own error. The
 * {@code double[]} forms are what the finite-difference tests differentiate.
 *
 * <p>The exception is {@link #adamWStep}, whose contract is PyTorch's f32 operation order: its
 * reference is that order written one scalar at a time.
 */
public final class ReferenceKernels {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private ReferenceKernels() {
    }

    static double[] load(MemorySegment seg, long off, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = seg.getAtIndex(F32, off + i);
        }
        return a;
    }

    static void store(double[] a, MemorySegment seg, long off) {
        for (int i = 0; i < a.length; i++) {
            seg.setAtIndex(F32, off + i, (float) a[i]);
        }
    }

    // ---------------------------------------------------------------- element-wise

    public static double unary(Elementwise.Unary op, double x) {
        return switch (op) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1 / Math.sqrt(x);
            case ABS -> Math.abs(x);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1 / x;
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case RELU -> x > 0 ? x : (Double.isNaN(x) ? x : 0);
            case GELU_ERF -> 0.5 * x * Erf.erfc(-x / Math.sqrt(2));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case SILU -> x / (1 + Math.exp(-x));
            case SIN -> Math.sin(x);
            case COS -> Math.cos(x);
        };
    }

    /** f'(x), written from the calculus (not from the fast kernel's formulas). */
    public static double unaryDerivative(Elementwise.Unary op, double x) {
        return switch (op) {
            case NEG -> -1;
            case EXP -> Math.exp(x);
            case LOG -> 1 / x;
            case SQRT -> 0.5 / Math.sqrt(x);
            case RSQRT -> -0.5 * Math.pow(x, -1.5);
            case ABS -> Math.signum(x);
            case SQUARE -> 2 * x;
            case RECIPROCAL -> -1 / (x * x);
            case TANH -> 1 / (Math.cosh(x) * Math.cosh(x));
            case SIGMOID -> {
                double s = 1 / (1 + Math.exp(-x));
                yield s * (1 - s);
            }
            case RELU -> x > 0 ? 1 : 0;
            case GELU_ERF -> 0.5 * Erf.erfc(-x / Math.sqrt(2)) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
            case GELU_TANH -> {
                double k = Math.sqrt(2 / Math.PI);
                double u = k * (x + 0.044715 * x * x * x);
                double sech2 = 1 / (Math.cosh(u) * Math.cosh(u));
                yield 0.5 * (1 + Math.tanh(u)) + 0.5 * x * sech2 * k * (1 + 3 * 0.044715 * x * x);
            }
            case SILU -> {
                double s = 1 / (1 + Math.exp(-x));
                yield s + x * s * (1 - s);
            }
            case SIN -> Math.cos(x);
            case COS -> -Math.sin(x);
        };
    }

    public static double binary(Elementwise.Binary op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case POW -> Math.pow(a, b);
        };
    }

    public static void unary(Elementwise.Unary op, MemorySegment x, long xOff, MemorySegment y, long yOff, long n) {
        for (long i = 0; i < n; i++) {
            y.setAtIndex(F32, yOff + i, (float) unary(op, x.getAtIndex(F32, xOff + i)));
        }
    }

    public static void unaryBackward(Elementwise.Unary op, MemorySegment x, long xOff, MemorySegment gy, long gyOff,
                                     MemorySegment gx, long gxOff, long n) {
        for (long i = 0; i < n; i++) {
            double d = unaryDerivative(op, x.getAtIndex(F32, xOff + i));
            gx.setAtIndex(F32, gxOff + i, (float) (gy.getAtIndex(F32, gyOff + i) * d));
        }
    }

    /** Element offset of flat output index k in a view with the given strides over {@code shape}. */
    static long stridedOffset(long k, long[] shape, long[] strides) {
        long off = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            off += (k % shape[d]) * strides[d];
            k /= shape[d];
        }
        return off;
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public static void binary(Elementwise.Binary op, long[] shape, MemorySegment a, long aOff, long[] aStrides,
                              MemorySegment b, long bOff, long[] bStrides, MemorySegment out, long outOff) {
        long n = numel(shape);
        for (long k = 0; k < n; k++) {
            double av = a.getAtIndex(F32, aOff + stridedOffset(k, shape, aStrides));
            double bv = b.getAtIndex(F32, bOff + stridedOffset(k, shape, bStrides));
            out.setAtIndex(F32, outOff + k, (float) binary(op, av, bv));
        }
    }

    public static void where(long[] shape, MemorySegment cond, long cOff, long[] cStrides, MemorySegment a, long aOff,
                             long[] aStrides, MemorySegment b, long bOff, long[] bStrides, MemorySegment out, long outOff) {
        long n = numel(shape);
        for (long k = 0; k < n; k++) {
            boolean c = cond.get(ValueLayout.JAVA_BYTE, cOff + stridedOffset(k, shape, cStrides)) != 0;
            float v = c ? a.getAtIndex(F32, aOff + stridedOffset(k, shape, aStrides))
                    : b.getAtIndex(F32, bOff + stridedOffset(k, shape, bStrides));
            out.setAtIndex(F32, outOff + k, v);
        }
    }

    public static void compare(Elementwise.Compare op, long[] shape, MemorySegment a, long aOff, long[] aStrides,
                               MemorySegment b, long bOff, long[] bStrides, MemorySegment out, long outOff) {
        long n = numel(shape);
        for (long k = 0; k < n; k++) {
            double av = a.getAtIndex(F32, aOff + stridedOffset(k, shape, aStrides));
            double bv = b.getAtIndex(F32, bOff + stridedOffset(k, shape, bStrides));
            boolean r = switch (op) {
                case EQ -> av == bv;
                case NE -> av != bv;
                case LT -> av < bv;
                case LE -> av <= bv;
                case GT -> av > bv;
                case GE -> av >= bv;
            };
            out.set(ValueLayout.JAVA_BYTE, outOff + k, (byte) (r ? 1 : 0));
        }
    }

    public static void affine(MemorySegment x, long xOff, MemorySegment y, long yOff, long n, float alpha, float beta) {
        for (long i = 0; i < n; i++) {
            y.setAtIndex(F32, yOff + i, (float) ((double) alpha * x.getAtIndex(F32, xOff + i) + beta));
        }
    }

    public static void axpy(float alpha, MemorySegment x, long xOff, MemorySegment y, long yOff, long n) {
        for (long i = 0; i < n; i++) {
            double v = y.getAtIndex(F32, yOff + i) + (double) alpha * x.getAtIndex(F32, xOff + i);
            y.setAtIndex(F32, yOff + i, (float) v);
        }
    }

    public static void fill(MemorySegment y, long yOff, long n, float value) {
        for (long i = 0; i < n; i++) {
            y.setAtIndex(F32, yOff + i, value);
        }
    }

    // ---------------------------------------------------------------- strided copy

    public static void stridedCopy(DType srcType, long[] shape, MemorySegment src, long srcOff, long[] srcStrides,
                                   DType dstType, MemorySegment dst, long dstOff) {
        long n = numel(shape);
        for (long k = 0; k < n; k++) {
            long s = srcOff + stridedOffset(k, shape, srcStrides);
            long d = dstOff + k;
            if (srcType == dstType) {
                switch (srcType.byteSize()) {
                    case 1 -> dst.set(ValueLayout.JAVA_BYTE, d, src.get(ValueLayout.JAVA_BYTE, s));
                    case 2 -> dst.setAtIndex(I16, d, src.getAtIndex(I16, s));
                    case 4 -> dst.setAtIndex(I32, d, src.getAtIndex(I32, s));
                    default -> dst.setAtIndex(I64, d, src.getAtIndex(I64, s));
                }
                continue;
            }
            if (srcType.isFloatingPoint()) {
                float f = switch (srcType) {
                    case F32 -> src.getAtIndex(F32, s);
                    case BF16 -> DType.bf16ToFloat(src.getAtIndex(I16, s));
                    default -> DType.f16ToFloat(src.getAtIndex(I16, s));
                };
                switch (dstType) {
                    case F32 -> dst.setAtIndex(F32, d, f);
                    case BF16 -> dst.setAtIndex(I16, d, DType.floatToBf16(f));
                    case F16 -> dst.setAtIndex(I16, d, DType.floatToF16(f));
                    case I32 -> dst.setAtIndex(I32, d, (int) f);
                    case I64 -> dst.setAtIndex(I64, d, (long) f);
                    case BOOL -> dst.set(ValueLayout.JAVA_BYTE, d, (byte) (f != 0 ? 1 : 0));
                }
            } else {
                long v = switch (srcType) {
                    case I32 -> src.getAtIndex(I32, s);
                    case BOOL -> src.get(ValueLayout.JAVA_BYTE, s) != 0 ? 1 : 0;
                    default -> src.getAtIndex(I64, s);
                };
                switch (dstType) {
                    case F32 -> dst.setAtIndex(F32, d, (float) v);
                    case BF16 -> dst.setAtIndex(I16, d, DType.floatToBf16((float) v));
                    case F16 -> dst.setAtIndex(I16, d, DType.floatToF16((float) v));
                    case I32 -> {
                        if (v != (int) v) {
                            throw new IllegalArgumentException("value " + v + " does not fit in I32");
                        }
                        dst.setAtIndex(I32, d, (int) v);
                    }
                    case I64 -> dst.setAtIndex(I64, d, v);
                    case BOOL -> dst.set(ValueLayout.JAVA_BYTE, d, (byte) (v != 0 ? 1 : 0));
                }
            }
        }
    }

    // ---------------------------------------------------------------- reductions

    public static void reduce(Reduce.Op op, MemorySegment x, long xOff, int outer, int axis, int inner,
                              MemorySegment out, long outOff) {
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                double acc = switch (op) {
                    case SUM, MEAN -> 0;
                    case MAX -> Double.NEGATIVE_INFINITY;
                    case MIN -> Double.POSITIVE_INFINITY;
                };
                for (int a = 0; a < axis; a++) {
                    double v = x.getAtIndex(F32, xOff + ((long) o * axis + a) * inner + i);
                    acc = switch (op) {
                        case SUM, MEAN -> acc + v;
                        case MAX -> Math.max(acc, v);
                        case MIN -> Math.min(acc, v);
                    };
                }
                if (op == Reduce.Op.MEAN) {
                    acc /= axis;
                }
                out.setAtIndex(F32, outOff + (long) o * inner + i, (float) acc);
            }
        }
    }

    public static void argmax(MemorySegment x, long xOff, int outer, int axis, int inner, MemorySegment out, long outOff) {
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                long best = -1;
                float bestValue = 0;
                for (int a = 0; a < axis; a++) {
                    float v = x.getAtIndex(F32, xOff + ((long) o * axis + a) * inner + i);
                    boolean better = best < 0 || (!Float.isNaN(bestValue) && (Float.isNaN(v) || v > bestValue));
                    if (better) {
                        best = a;
                        bestValue = v;
                    }
                }
                out.setAtIndex(I64, outOff + (long) o * inner + i, best);
            }
        }
    }

    // ---------------------------------------------------------------- softmax

    public static double[] softmax(double[] x, int rows, int cols) {
        double[] y = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, x[r * cols + c]);
            }
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += Math.exp(x[r * cols + c] - max);
            }
            for (int c = 0; c < cols; c++) {
                y[r * cols + c] = Math.exp(x[r * cols + c] - max) / sum;
            }
        }
        return y;
    }

    public static double[] softmaxBackward(double[] y, double[] gy, int rows, int cols) {
        double[] gx = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            double dot = 0;
            for (int c = 0; c < cols; c++) {
                dot += gy[r * cols + c] * y[r * cols + c];
            }
            for (int c = 0; c < cols; c++) {
                gx[r * cols + c] = y[r * cols + c] * (gy[r * cols + c] - dot);
            }
        }
        return gx;
    }

    public static double[] logSoftmax(double[] x, int rows, int cols) {
        double[] y = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            double lse = logSumExp(x, r * cols, cols);
            for (int c = 0; c < cols; c++) {
                y[r * cols + c] = x[r * cols + c] - lse;
            }
        }
        return y;
    }

    public static double[] logSoftmaxBackward(double[] y, double[] gy, int rows, int cols) {
        double[] gx = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += gy[r * cols + c];
            }
            for (int c = 0; c < cols; c++) {
                gx[r * cols + c] = gy[r * cols + c] - Math.exp(y[r * cols + c]) * sum;
            }
        }
        return gx;
    }

    static double logSumExp(double[] x, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < n; c++) {
            max = Math.max(max, x[off + c]);
        }
        double sum = 0;
        for (int c = 0; c < n; c++) {
            sum += Math.exp(x[off + c] - max);
        }
        return max + Math.log(sum);
    }

    public static void softmax(MemorySegment x, long xOff, MemorySegment y, long yOff, int rows, int cols) {
        store(softmax(load(x, xOff, rows * cols), rows, cols), y, yOff);
    }

    public static void softmaxBackward(MemorySegment y, long yOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff,
                                       int rows, int cols) {
        store(softmaxBackward(load(y, yOff, rows * cols), load(gy, gyOff, rows * cols), rows, cols), gx, gxOff);
    }

    public static void logSoftmax(MemorySegment x, long xOff, MemorySegment y, long yOff, int rows, int cols) {
        store(logSoftmax(load(x, xOff, rows * cols), rows, cols), y, yOff);
    }

    public static void logSoftmaxBackward(MemorySegment y, long yOff, MemorySegment gy, long gyOff, MemorySegment gx,
                                          long gxOff, int rows, int cols) {
        store(logSoftmaxBackward(load(y, yOff, rows * cols), load(gy, gyOff, rows * cols), rows, cols), gx, gxOff);
    }

    // ---------------------------------------------------------------- norms

    /** Layer norm in double; returns {y, mean, rstd}. b may be null. */
    public static double[][] layerNorm(double[] x, double[] w, double[] b, int rows, int cols, double eps) {
        double[] y = new double[rows * cols];
        double[] mean = new double[rows];
        double[] rstd = new double[rows];
        for (int r = 0; r < rows; r++) {
            double mu = 0;
            for (int c = 0; c < cols; c++) {
                mu += x[r * cols + c];
            }
            mu /= cols;
            double var = 0;
            for (int c = 0; c < cols; c++) {
                double d = x[r * cols + c] - mu;
                var += d * d;
            }
            var /= cols;
            double rs = 1 / Math.sqrt(var + eps);
            mean[r] = mu;
            rstd[r] = rs;
            for (int c = 0; c < cols; c++) {
                y[r * cols + c] = (x[r * cols + c] - mu) * rs * w[c] + (b == null ? 0 : b[c]);
            }
        }
        return new double[][] {y, mean, rstd};
    }

    /** Layer norm backward in double; returns {gx, gw, gb}. */
    public static double[][] layerNormBackward(double[] x, double[] w, double[] mean, double[] rstd, double[] gy,
                                               int rows, int cols) {
        double[] gx = new double[rows * cols];
        double[] gw = new double[cols];
        double[] gb = new double[cols];
        for (int r = 0; r < rows; r++) {
            double sumG = 0;
            double sumGX = 0;
            for (int c = 0; c < cols; c++) {
                double xhat = (x[r * cols + c] - mean[r]) * rstd[r];
                double g = gy[r * cols + c] * w[c];
                sumG += g;
                sumGX += g * xhat;
                gw[c] += gy[r * cols + c] * xhat;
                gb[c] += gy[r * cols + c];
            }
            for (int c = 0; c < cols; c++) {
                double xhat = (x[r * cols + c] - mean[r]) * rstd[r];
                double g = gy[r * cols + c] * w[c];
                gx[r * cols + c] = rstd[r] * (g - sumG / cols - xhat * sumGX / cols);
            }
        }
        return new double[][] {gx, gw, gb};
    }

    public static void layerNormForward(MemorySegment x, long xOff, MemorySegment w, long wOff, MemorySegment b, long bOff,
                                        MemorySegment y, long yOff, MemorySegment mean, long meanOff,
                                        MemorySegment rstd, long rstdOff, int rows, int cols, float eps) {
        double[][] r = layerNorm(load(x, xOff, rows * cols), load(w, wOff, cols), b == null ? null : load(b, bOff, cols),
                rows, cols, eps);
        store(r[0], y, yOff);
        store(r[1], mean, meanOff);
        store(r[2], rstd, rstdOff);
    }

    /** gx overwritten, gw and gb (nullable) accumulated into, like the fast kernel. */
    public static void layerNormBackward(MemorySegment x, long xOff, MemorySegment w, long wOff, MemorySegment mean,
                                         long meanOff, MemorySegment rstd, long rstdOff, MemorySegment gy, long gyOff,
                                         MemorySegment gx, long gxOff, MemorySegment gw, long gwOff,
                                         MemorySegment gb, long gbOff, int rows, int cols) {
        double[][] r = layerNormBackward(load(x, xOff, rows * cols), load(w, wOff, cols), load(mean, meanOff, rows),
                load(rstd, rstdOff, rows), load(gy, gyOff, rows * cols), rows, cols);
        store(r[0], gx, gxOff);
        accumulate(r[1], gw, gwOff);
        if (gb != null) {
            accumulate(r[2], gb, gbOff);
        }
    }

    private static void accumulate(double[] a, MemorySegment seg, long off) {
        for (int i = 0; i < a.length; i++) {
            seg.setAtIndex(F32, off + i, (float) (seg.getAtIndex(F32, off + i) + a[i]));
        }
    }

    /** RMS norm in double; returns {y, rstd}. */
    public static double[][] rmsNorm(double[] x, double[] w, int rows, int cols, double eps) {
        double[] y = new double[rows * cols];
        double[] rstd = new double[rows];
        for (int r = 0; r < rows; r++) {
            double ms = 0;
            for (int c = 0; c < cols; c++) {
                ms += x[r * cols + c] * x[r * cols + c];
            }
            double rs = 1 / Math.sqrt(ms / cols + eps);
            rstd[r] = rs;
            for (int c = 0; c < cols; c++) {
                y[r * cols + c] = x[r * cols + c] * rs * w[c];
            }
        }
        return new double[][] {y, rstd};
    }

    /** RMS norm backward in double; returns {gx, gw}. */
    public static double[][] rmsNormBackward(double[] x, double[] w, double[] rstd, double[] gy, int rows, int cols) {
        double[] gx = new double[rows * cols];
        double[] gw = new double[cols];
        for (int r = 0; r < rows; r++) {
            double sumGX = 0;
            for (int c = 0; c < cols; c++) {
                double xhat = x[r * cols + c] * rstd[r];
                sumGX += gy[r * cols + c] * w[c] * xhat;
                gw[c] += gy[r * cols + c] * xhat;
            }
            for (int c = 0; c < cols; c++) {
                double xhat = x[r * cols + c] * rstd[r];
                gx[r * cols + c] = rstd[r] * (gy[r * cols + c] * w[c] - xhat * sumGX / cols);
            }
        }
        return new double[][] {gx, gw};
    }

    public static void rmsNormForward(MemorySegment x, long xOff, MemorySegment w, long wOff, MemorySegment y, long yOff,
                                      MemorySegment rstd, long rstdOff, int rows, int cols, float eps) {
        double[][] r = rmsNorm(load(x, xOff, rows * cols), load(w, wOff, cols), rows, cols, eps);
        store(r[0], y, yOff);
        store(r[1], rstd, rstdOff);
    }

    public static void rmsNormBackward(MemorySegment x, long xOff, MemorySegment w, long wOff, MemorySegment rstd,
                                       long rstdOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff,
                                       MemorySegment gw, long gwOff, int rows, int cols) {
        double[][] r = rmsNormBackward(load(x, xOff, rows * cols), load(w, wOff, cols), load(rstd, rstdOff, rows),
                load(gy, gyOff, rows * cols), rows, cols);
        store(r[0], gx, gxOff);
        accumulate(r[1], gw, gwOff);
    }

    // ---------------------------------------------------------------- rope

    /** RoPE on [batch, seq, heads, headDim] in double, angles as in docs/model.md §5 (cos/sin rounded to f32). */
    public static double[] rope(double[] x, int batch, int seq, int heads, int headDim, int startPos, double theta,
                                boolean inverse) {
        double[] y = new double[x.length];
        int half = headDim / 2;
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seq; t++) {
                int pos = startPos + t;
                for (int h = 0; h < heads; h++) {
                    int base = ((b * seq + t) * heads + h) * headDim;
                    for (int i = 0; i < half; i++) {
                        double angle = pos * Math.pow(theta, -2.0 * i / headDim);
                        double c = (float) Math.cos(angle);
                        double s = (inverse ? -1 : 1) * (double) (float) Math.sin(angle);
                        double x1 = x[base + i];
                        double x2 = x[base + half + i];
                        y[base + i] = x1 * c - x2 * s;
                        y[base + half + i] = x2 * c + x1 * s;
                    }
                }
            }
        }
        return y;
    }

    public static void rope(MemorySegment x, long xOff, MemorySegment y, long yOff, int batch, int seq, int heads,
                            int headDim, int startPos, double theta, boolean inverse) {
        int n = batch * seq * heads * headDim;
        store(rope(load(x, xOff, n), batch, seq, heads, headDim, startPos, theta, inverse), y, yOff);
    }

    // ---------------------------------------------------------------- embedding

    public static void embeddingGather(MemorySegment table, long tableOff, int vocab, int dim, MemorySegment ids,
                                       long idsOff, int n, MemorySegment out, long outOff, long skipId) {
        for (int r = 0; r < n; r++) {
            long id = ids.getAtIndex(I64, idsOff + r);
            for (int c = 0; c < dim; c++) {
                float v = id == skipId ? 0f : table.getAtIndex(F32, tableOff + id * dim + c);
                out.setAtIndex(F32, outOff + (long) r * dim + c, v);
            }
        }
    }

    /** Accumulates in double per table element, rounding once at the end. */
    public static void embeddingScatterAdd(MemorySegment gOut, long gOutOff, MemorySegment ids, long idsOff, int n,
                                           int vocab, int dim, MemorySegment gTable, long gTableOff, long skipId) {
        double[] acc = load(gTable, gTableOff, vocab * dim);
        for (int r = 0; r < n; r++) {
            long id = ids.getAtIndex(I64, idsOff + r);
            if (id == skipId) {
                continue;
            }
            for (int c = 0; c < dim; c++) {
                acc[(int) id * dim + c] += gOut.getAtIndex(F32, gOutOff + (long) r * dim + c);
            }
        }
        store(acc, gTable, gTableOff);
    }

    // ---------------------------------------------------------------- AdamW

    /** PyTorch's AdamW f32 operation order (see {@link AdamW}), one element at a time. */
    public static void adamWStep(MemorySegment param, long pOff, MemorySegment grad, long gOff, MemorySegment m, long mOff,
                                 MemorySegment v, long vOff, long n, double lr, double beta1, double beta2, double eps,
                                 double weightDecay, int step) {
        float decay = (float) (1 - lr * weightDecay);
        float w = (float) (1 - beta1);
        float b2 = (float) beta2;
        float c2 = (float) (1 - beta2);
        float bc2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        float epsF = (float) eps;
        float negStep = (float) -(lr / (1 - Math.pow(beta1, step)));
        for (long i = 0; i < n; i++) {
            float p = param.getAtIndex(F32, pOff + i);
            float g = grad.getAtIndex(F32, gOff + i);
            float mi = m.getAtIndex(F32, mOff + i);
            float vi = v.getAtIndex(F32, vOff + i);
            p = p * decay;
            mi = Math.abs(w) < 0.5f ? Math.fma(w, g - mi, mi) : Math.fma(w - 1f, g - mi, g);
            vi = Math.fma(c2 * g, g, vi * b2);
            float denom = (float) Math.sqrt(vi) / bc2Sqrt + epsF;
            p = p + (negStep * mi) / denom;
            param.setAtIndex(F32, pOff + i, p);
            m.setAtIndex(F32, mOff + i, mi);
            v.setAtIndex(F32, vOff + i, vi);
        }
    }

    public static double sumOfSquares(MemorySegment x, long xOff, long n) {
        double s = 0;
        for (long i = 0; i < n; i++) {
            double v = x.getAtIndex(F32, xOff + i);
            s += v * v;
        }
        return s;
    }

    // ---------------------------------------------------------------- cross-entropy

    /** Per-row losses in double (NaN for ignored rows) and the log-sum-exp of every row. */
    public static double[][] crossEntropy(double[] logits, int rows, int vocab, long[] targets, long ignoreIndex) {
        double[] loss = new double[rows];
        double[] lse = new double[rows];
        for (int r = 0; r < rows; r++) {
            if (targets[r] == ignoreIndex) {
                loss[r] = Double.NaN;
                continue;
            }
            lse[r] = logSumExp(logits, r * vocab, vocab);
            loss[r] = lse[r] - logits[r * vocab + (int) targets[r]];
        }
        return new double[][] {loss, lse};
    }

    /** d(scale * sum of non-ignored row losses)/d logits, in double. */
    public static double[] crossEntropyBackward(double[] logits, int rows, int vocab, long[] targets, long ignoreIndex,
                                                double scale) {
        double[] g = new double[rows * vocab];
        for (int r = 0; r < rows; r++) {
            if (targets[r] == ignoreIndex) {
                continue;
            }
            double lse = logSumExp(logits, r * vocab, vocab);
            for (int c = 0; c < vocab; c++) {
                double p = Math.exp(logits[r * vocab + c] - lse);
                g[r * vocab + c] = scale * (p - (c == targets[r] ? 1 : 0));
            }
        }
        return g;
    }

    static long[] loadLongs(MemorySegment seg, long off, int n) {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) {
            a[i] = seg.getAtIndex(I64, off + i);
        }
        return a;
    }

    public static CrossEntropy.Result crossEntropyForward(MemorySegment logits, long lOff, int rows, int vocab,
                                                          MemorySegment targets, long tOff, long ignoreIndex,
                                                          MemorySegment lse, long lseOff) {
        long[] t = loadLongs(targets, tOff, rows);
        double[][] r = crossEntropy(load(logits, lOff, rows * vocab), rows, vocab, t, ignoreIndex);
        store(r[1], lse, lseOff);
        double sum = 0;
        long count = 0;
        for (int i = 0; i < rows; i++) {
            if (t[i] != ignoreIndex) {
                sum += r[0][i];
                count++;
            }
        }
        return new CrossEntropy.Result(sum, count);
    }

    public static void crossEntropyBackward(MemorySegment logits, long lOff, int rows, int vocab, MemorySegment targets,
                                            long tOff, long ignoreIndex, float scale, MemorySegment gLogits, long gOff) {
        store(crossEntropyBackward(load(logits, lOff, rows * vocab), rows, vocab, loadLongs(targets, tOff, rows),
                ignoreIndex, scale), gLogits, gOff);
    }
}
