package nvlm.cuda.backend.kernels;

import java.util.List;
import nvlm.kernels.DType;
import nvlm.kernels.hat.BF16Buffer;
import nvlm.kernels.hat.Buffer;
import nvlm.kernels.hat.F16Buffer;
import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.GpuKernel;
import nvlm.kernels.hat.I32Buffer;
import nvlm.kernels.hat.I64Buffer;
import nvlm.kernels.hat.I8Buffer;
import nvlm.kernels.hat.Kernel;
import nvlm.kernels.hat.KernelContext;
import nvlm.kernels.hat.KernelLaunch;

/**
 * Copies between any two dtypes through strided views of up to {@link #MAX_RANK} dimensions, and
 * fills of any dtype: what {@code nvlm.kernels.gpu.StridedCopy} (f32 and bf16, no conversion) and
 * {@code Cast} (contiguous pairs) leave out. The dtype is a run-time code, so one kernel serves
 * every pair; each side is passed as six typed buffers of which only the one of its dtype is real
 * (the others are {@link TypedBuffers#placeholder placeholders}, never read).
 *
 * <p>Conversions follow the CPU backend's: floats widen to double and narrow with one rounding,
 * BOOL reads as 0/1 and writes {@code v != 0}, float to integer saturates as a Java cast, and
 * integer to integer goes through {@code long} exactly.
 */
public final class TypedCopy {
    private TypedCopy() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel COPY_KERNEL = GpuKernel.of(TypedCopy.class, "copyKernel");
    private static final GpuKernel FILL_KERNEL = GpuKernel.of(TypedCopy.class, "fillKernel");

    /** The largest rank a copy takes; leading size-1 dimensions pad lower ranks. */
    public static final int MAX_RANK = 6;

    static final int F32 = 0;
    static final int BF16 = 1;
    static final int F16 = 2;
    static final int I32 = 3;
    static final int I64 = 4;
    static final int BOOL = 5;

    /** The run-time code of a dtype in these kernels. */
    public static int code(DType dtype) {
        return switch (dtype) {
            case F32 -> F32;
            case BF16 -> BF16;
            case F16 -> F16;
            case I32 -> I32;
            case I64 -> I64;
            case BOOL -> BOOL;
        };
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
    static void copyKernel(KernelContext kc, int srcType, F32Buffer sf, BF16Buffer sb, F16Buffer sh, I32Buffer si,
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

    /**
     * Copies {@code src} (dtype {@code srcType}, strides {@code srcStrides}) into {@code dst}
     * (strides {@code dstStrides}) over {@code shape}, converting. Rank at most {@link #MAX_RANK};
     * every extent at least 1.
     */
    public static KernelLaunch copy(DType srcType, Buffer src, long[] srcStrides, DType dstType, Buffer dst,
                                    long[] dstStrides, long[] shape) {
        Launches.require(shape.length >= 1 && shape.length <= MAX_RANK && srcStrides.length == shape.length
                && dstStrides.length == shape.length, "TypedCopy.copy: rank of shape and strides must agree and be 1.."
                + MAX_RANK);
        Launches.requireSpan("TypedCopy.copy", "src", src, shape, srcStrides);
        Launches.requireSpan("TypedCopy.copy", "dst", dst, shape, dstStrides);
        Object[] args = new Object[2 * (1 + 6 + MAX_RANK) + MAX_RANK];
        int at = 0;
        at = TypedBuffers.put(args, at, srcType, src);
        at = Launches.padded(args, at, srcStrides, 0L);
        at = TypedBuffers.put(args, at, dstType, dst);
        at = Launches.padded(args, at, dstStrides, 0L);
        at = Launches.padded(args, at, shape, 1L);
        return new KernelLaunch(COPY_KERNEL, Launches.elementwise(Launches.numel(shape)),
                List.of(args));
    }

    /** Sets the first n elements of {@code dst} to {@code value} as the CPU backend's fill converts it. */
    public static KernelLaunch fill(DType dstType, Buffer dst, long n, double value) {
        Launches.requireLength("TypedCopy.fill", "dst", dst, n);
        Object[] args = new Object[1 + 6 + 3];
        int at = TypedBuffers.put(args, 0, dstType, dst);
        args[at++] = n;
        args[at++] = value;
        // As the CPU backend converts: (int) for I32, (long) for I64, nonzero for BOOL.
        args[at] = switch (dstType) {
            case BOOL -> value != 0 ? 1L : 0L;
            case I32 -> (long) (int) value;
            default -> (long) value;
        };
        return new KernelLaunch(FILL_KERNEL, Launches.elementwise(n), List.of(args));
    }
}
