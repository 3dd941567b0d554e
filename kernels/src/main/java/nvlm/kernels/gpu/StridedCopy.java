package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Launches.requireLength;

import nvlm.kernels.DType;
import nvlm.kernels.translator.BF16Buffer;
import nvlm.kernels.translator.Buffer;
import nvlm.kernels.translator.F16Buffer;
import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.I32Buffer;
import nvlm.kernels.translator.I64Buffer;
import nvlm.kernels.translator.I8Buffer;
import nvlm.kernels.translator.Kernel;
import nvlm.kernels.translator.KernelContext;
import nvlm.kernels.translator.KernelLaunch;

/**
 * Copies a strided view of up to {@link Launches#MAX_RANK} dimensions into another: makes a
 * permuted or sliced view contiguous, transposes, or writes into a view. Element (i0..i5) goes
 * from {@code src[sum ik*sk]} to {@code dst[sum ik*tk]}. f32 and bf16 copies within their dtype
 * (making attention's and the model's views contiguous: the common case) have kernels of their
 * own, without the run-time dtype switch and the round trip through double; {@link #convert}
 * copies between any two dtypes, and {@link #fill} sets elements of any dtype.
 *
 * <p>The dtype of {@link #convert} and {@link #fill} is a run-time code, so one kernel serves every
 * pair: each side is passed as six typed buffers of which only the one of its dtype is real (the
 * others are {@link Placeholders}, never read). Conversions follow the CPU backend's: floats widen
 * to double and narrow with one rounding, BOOL reads as 0/1 and writes {@code v != 0}, float to
 * integer saturates as a Java cast, and integer to integer goes through {@code long} exactly.
 */
public final class StridedCopy {
    private StridedCopy() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel F32_COPY = GpuKernel.of(StridedCopy.class, "f32Kernel");
    private static final GpuKernel BF16_COPY = GpuKernel.of(StridedCopy.class, "bf16Kernel");
    private static final GpuKernel CONVERT = GpuKernel.of(StridedCopy.class, "convertKernel");
    private static final GpuKernel FILL = GpuKernel.of(StridedCopy.class, "fillKernel");

    // The run-time dtype codes of convertKernel and fillKernel.
    static final int F32 = 0;
    static final int BF16 = 1;
    static final int F16 = 2;
    static final int I32 = 3;
    static final int I64 = 4;
    static final int BOOL = 5;

    @Kernel
    static void f32Kernel(KernelContext kc, F32Buffer src, long s0, long s1, long s2, long s3, long s4, long s5,
                          F32Buffer dst, long t0, long t1, long t2, long t3, long t4, long t5,
                          long d0, long d1, long d2, long d3, long d4, long d5) {
        long n = d0 * d1 * d2 * d3 * d4 * d5;
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            long rest = i;
            long i5 = rest % d5;
            rest /= d5;
            long i4 = rest % d4;
            rest /= d4;
            long i3 = rest % d3;
            rest /= d3;
            long i2 = rest % d2;
            rest /= d2;
            long i1 = rest % d1;
            long i0 = rest / d1;
            float value = src.get(i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3 + i4 * s4 + i5 * s5);
            dst.set(i0 * t0 + i1 * t1 + i2 * t2 + i3 * t3 + i4 * t4 + i5 * t5, value);
        }
    }

    /** As {@link #f32Kernel} for bfloat16 (widening and rounding back is exact: bits are copied, except that a signalling NaN comes out quiet). */
    @Kernel
    static void bf16Kernel(KernelContext kc, BF16Buffer src, long s0, long s1, long s2, long s3, long s4, long s5,
                           BF16Buffer dst, long t0, long t1, long t2, long t3, long t4, long t5,
                           long d0, long d1, long d2, long d3, long d4, long d5) {
        long n = d0 * d1 * d2 * d3 * d4 * d5;
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            long rest = i;
            long i5 = rest % d5;
            rest /= d5;
            long i4 = rest % d4;
            rest /= d4;
            long i3 = rest % d3;
            rest /= d3;
            long i2 = rest % d2;
            rest /= d2;
            long i1 = rest % d1;
            long i0 = rest / d1;
            float value = src.get(i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3 + i4 * s4 + i5 * s5);
            dst.set(i0 * t0 + i1 * t1 + i2 * t2 + i3 * t3 + i4 * t4 + i5 * t5, value);
        }
    }

    static boolean isInteger(int type) {
        return type >= I32;
    }

    static double load(int type, F32Buffer f, BF16Buffer b, F16Buffer h, I32Buffer i, I64Buffer l, I8Buffer c, long at) {
        switch (type) {
            case F32:
                return f.get(at);
            case BF16:
                return b.get(at);
            case F16:
                return h.get(at);
            case I32:
                return i.get(at);
            case I64:
                return l.get(at);
            default:
                return c.get(at) != 0 ? 1.0 : 0.0;
        }
    }

    static long loadLong(int type, I32Buffer i, I64Buffer l, I8Buffer c, long at) {
        switch (type) {
            case I32:
                return i.get(at);
            case I64:
                return l.get(at);
            default:
                return c.get(at) != 0 ? 1L : 0L;
        }
    }

    static void store(int type, F32Buffer f, BF16Buffer b, F16Buffer h, I32Buffer i, I64Buffer l, I8Buffer c, long at,
                      double v) {
        switch (type) {
            case F32:
                f.set(at, (float) v);
                break;
            case BF16:
                b.set(at, (float) v);
                break;
            case F16:
                h.set(at, (float) v);
                break;
            case I32:
                i.set(at, (int) v);
                break;
            case I64:
                l.set(at, (long) v);
                break;
            default:
                c.set(at, (byte) (v != 0 ? 1 : 0));
                break;
        }
    }

    static void storeLong(int type, I32Buffer i, I64Buffer l, I8Buffer c, long at, long v) {
        switch (type) {
            case I32:
                i.set(at, (int) v);
                break;
            case I64:
                l.set(at, v);
                break;
            default:
                c.set(at, (byte) (v != 0 ? 1 : 0));
                break;
        }
    }

    /** dst[sum ik*tk] = convert(src[sum ik*sk]) over the shape d0..d5. */
    @Kernel
    static void convertKernel(KernelContext kc, int srcType, F32Buffer sf, BF16Buffer sb, F16Buffer sh, I32Buffer si,
                              I64Buffer sl, I8Buffer sc, long s0, long s1, long s2, long s3, long s4, long s5,
                              int dstType, F32Buffer df, BF16Buffer db, F16Buffer dh, I32Buffer di, I64Buffer dl,
                              I8Buffer dc, long t0, long t1, long t2, long t3, long t4, long t5,
                              long d0, long d1, long d2, long d3, long d4, long d5) {
        long n = d0 * d1 * d2 * d3 * d4 * d5;
        boolean integers = isInteger(srcType) && isInteger(dstType);
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            long rest = e;
            long i5 = rest % d5;
            rest /= d5;
            long i4 = rest % d4;
            rest /= d4;
            long i3 = rest % d3;
            rest /= d3;
            long i2 = rest % d2;
            rest /= d2;
            long i1 = rest % d1;
            long i0 = rest / d1;
            long from = i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3 + i4 * s4 + i5 * s5;
            long to = i0 * t0 + i1 * t1 + i2 * t2 + i3 * t3 + i4 * t4 + i5 * t5;
            if (integers) {
                storeLong(dstType, di, dl, dc, to, loadLong(srcType, si, sl, sc, from));
            } else {
                store(dstType, df, db, dh, di, dl, dc, to, load(srcType, sf, sb, sh, si, sl, sc, from));
            }
        }
    }

    /** dst[i] = value for n contiguous elements of any dtype; integers take {@code whole} exactly. */
    @Kernel
    static void fillKernel(KernelContext kc, int dstType, F32Buffer df, BF16Buffer db, F16Buffer dh, I32Buffer di,
                           I64Buffer dl, I8Buffer dc, long n, double value, long whole) {
        boolean integer = isInteger(dstType);
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            if (integer) {
                storeLong(dstType, di, dl, dc, e, whole);
            } else {
                store(dstType, df, db, dh, di, dl, dc, e, value);
            }
        }
    }

    // ---- launchers -----------------------------------------------------------------------------

    /** Copies {@code src} viewed with {@code srcStrides} into {@code dst} viewed with {@code dstStrides}, over {@code shape}. */
    public static KernelLaunch f32(F32Buffer src, long[] srcStrides, F32Buffer dst, long[] dstStrides, long[] shape) {
        return F32_COPY.launch(Launches.elementwise(Launches.numel(shape)),
                arguments("StridedCopy.f32", src, srcStrides, dst, dstStrides, shape));
    }

    public static KernelLaunch bf16(BF16Buffer src, long[] srcStrides, BF16Buffer dst, long[] dstStrides, long[] shape) {
        return BF16_COPY.launch(Launches.elementwise(Launches.numel(shape)),
                arguments("StridedCopy.bf16", src, srcStrides, dst, dstStrides, shape));
    }

    /**
     * Copies {@code src} (dtype {@code srcType}, strides {@code srcStrides}) into {@code dst}
     * (strides {@code dstStrides}) over {@code shape}, converting.
     */
    public static KernelLaunch convert(DType srcType, Buffer src, long[] srcStrides, DType dstType, Buffer dst,
                                       long[] dstStrides, long[] shape) {
        checkViews("StridedCopy.convert", src, srcStrides, dst, dstStrides, shape);
        Object[] args = new Object[2 * (1 + 6 + Launches.MAX_RANK) + Launches.MAX_RANK];
        int at = typed(args, 0, srcType, src);
        at = Launches.padded(args, at, srcStrides, 0L);
        at = typed(args, at, dstType, dst);
        at = Launches.padded(args, at, dstStrides, 0L);
        Launches.padded(args, at, shape, 1L);
        return CONVERT.launch(Launches.elementwise(Launches.numel(shape)), args);
    }

    /** Sets the first n elements of {@code dst} to {@code value} as the CPU backend's fill converts it. */
    public static KernelLaunch fill(DType dstType, Buffer dst, long n, double value) {
        requireLength("StridedCopy.fill", "dst", dst, n);
        Object[] args = new Object[1 + 6 + 3];
        int at = typed(args, 0, dstType, dst);
        args[at++] = n;
        args[at++] = value;
        // As the CPU backend converts: (int) for I32, (long) for I64, nonzero for BOOL.
        args[at] = switch (dstType) {
            case BOOL -> value != 0 ? 1L : 0L;
            case I32 -> (long) (int) value;
            default -> (long) value;
        };
        return FILL.launch(Launches.elementwise(n), args);
    }

    /** Row-major strides of a contiguous tensor of {@code shape}. */
    public static long[] contiguousStrides(long[] shape) {
        long[] strides = new long[shape.length];
        long stride = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = stride;
            stride *= shape[i];
        }
        return strides;
    }

    /** The run-time code of a dtype in {@link #convert} and {@link #fill}. */
    static int code(DType dtype) {
        return switch (dtype) {
            case F32 -> F32;
            case BF16 -> BF16;
            case F16 -> F16;
            case I32 -> I32;
            case I64 -> I64;
            case BOOL -> BOOL;
        };
    }

    /**
     * Writes the dtype code and the six typed buffer slots (the real one at its dtype's place,
     * placeholders elsewhere) into {@code args} from {@code at}; returns the next index.
     */
    private static int typed(Object[] args, int at, DType dtype, Buffer buffer) {
        args[at++] = code(dtype);
        for (DType slot : new DType[] {DType.F32, DType.BF16, DType.F16, DType.I32, DType.I64, DType.BOOL}) {
            args[at++] = slot == dtype ? buffer : Placeholders.of(slot);
        }
        return at;
    }

    private static void checkViews(String kernel, Buffer src, long[] srcStrides, Buffer dst, long[] dstStrides,
                                   long[] shape) {
        Launches.requireRank(kernel, Launches.MAX_RANK, shape, srcStrides, dstStrides);
        Launches.requireSpan(kernel, "src", src, shape, srcStrides);
        Launches.requireSpan(kernel, "dst", dst, shape, dstStrides);
    }

    private static Object[] arguments(String kernel, Buffer src, long[] srcStrides, Buffer dst, long[] dstStrides,
                                      long[] shape) {
        checkViews(kernel, src, srcStrides, dst, dstStrides, shape);
        Object[] args = new Object[2 + 3 * Launches.MAX_RANK];
        args[0] = src;
        int at = Launches.padded(args, 1, srcStrides, 0L);
        args[at++] = dst;
        at = Launches.padded(args, at, dstStrides, 0L);
        Launches.padded(args, at, shape, 1L);
        return args;
    }
}
