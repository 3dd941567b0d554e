package nvlm.model.tiling;

import nvlm.kernels.Parallel;

/**
 * Bicubic resize of 8-bit RGB images, computed the way Pillow's {@code Image.resize(size,
 * BICUBIC)} computes it (libImaging/Resample.c), because InternVL tiles with PIL (docs/model.md §1).
 *
 * <p>The kernel: Keys' cubic convolution with {@code a = -0.5},
 * {@code w(x) = (a+2)|x|^3 - (a+3)|x|^2 + 1} for {@code |x| < 1},
 * {@code a|x|^3 - 5a|x|^2 + 8a|x| - 4a} for {@code 1 <= |x| < 2}, else 0. Separable: a horizontal
 * pass, then a vertical pass. For output pixel {@code i} the source centre is
 * {@code (i + 0.5) * scale} with {@code scale = in/out}; when downsampling, the kernel is widened
 * by {@code scale} (antialiasing: support {@code 2*scale}, argument divided by {@code scale}), as
 * PIL does. Each output pixel's weights are normalized to sum to 1 and then quantized to 22-bit
 * fixed point; each pass rounds and clamps to [0, 255], so the horizontal result is stored as
 * 8-bit before the vertical pass, exactly like PIL on 8-bit images. With the same arithmetic the
 * output matches Pillow 9.4 pixel for pixel on the test images ({@code BicubicResamplerTest}).
 */
public final class BicubicResampler {
    /** PIL's fixed-point precision for 8-bit images: 32 - 8 - 2 bits. */
    private static final int PRECISION_BITS = 32 - 8 - 2;
    private static final double SUPPORT = 2.0;

    private BicubicResampler() {
    }

    /** Keys' cubic kernel with a = -0.5 (PIL's {@code bicubic_filter}). */
    static double cubic(double x) {
        double a = -0.5;
        if (x < 0) {
            x = -x;
        }
        if (x < 1) {
            return ((a + 2) * x - (a + 3)) * x * x + 1;
        }
        if (x < 2) {
            return (((x - 5) * x + 8) * x - 4) * a;
        }
        return 0;
    }

    /** Resizes {@code image} to {@code outWidth x outHeight}. */
    public static RgbImage resize(RgbImage image, int outWidth, int outHeight) {
        if (outWidth <= 0 || outHeight <= 0) {
            throw new IllegalArgumentException("resize target must be positive, got " + outWidth + "x" + outHeight);
        }
        if (outWidth == image.width() && outHeight == image.height()) {
            return new RgbImage(outWidth, outHeight, image.rgb().clone());
        }
        Coefficients horizontal = Coefficients.of(image.width(), outWidth);
        Coefficients vertical = Coefficients.of(image.height(), outHeight);
        RgbImage current = image;
        if (outWidth != image.width()) {
            // Only the rows the vertical pass will read (PIL's ybox_first..ybox_last).
            int firstRow = vertical.min[0];
            int lastRow = vertical.min[outHeight - 1] + vertical.count[outHeight - 1];
            current = horizontalPass(image, horizontal, firstRow, lastRow - firstRow);
            vertical = vertical.shifted(-firstRow);
        }
        if (outHeight != image.height()) {
            current = verticalPass(current, vertical);
        }
        return current;
    }

    private static RgbImage horizontalPass(RgbImage in, Coefficients k, int firstRow, int rows) {
        int outWidth = k.min.length;
        byte[] src = in.rgb();
        byte[] dst = new byte[outWidth * rows * 3];
        int inWidth = in.width();
        Parallel.forRange(rows, Math.max(1, 65536 / Math.max(1, outWidth * k.size)), (start, end) -> {
            for (int y = start; y < end; y++) {
                int srcRow = (y + firstRow) * inWidth * 3;
                int dstRow = y * outWidth * 3;
                for (int x = 0; x < outWidth; x++) {
                    int xmin = k.min[x];
                    int n = k.count[x];
                    int w = x * k.size;
                    int r = 1 << (PRECISION_BITS - 1);
                    int g = r;
                    int b = r;
                    for (int i = 0; i < n; i++) {
                        int p = srcRow + (xmin + i) * 3;
                        int c = k.weights[w + i];
                        r += (src[p] & 0xff) * c;
                        g += (src[p + 1] & 0xff) * c;
                        b += (src[p + 2] & 0xff) * c;
                    }
                    dst[dstRow + x * 3] = clip8(r);
                    dst[dstRow + x * 3 + 1] = clip8(g);
                    dst[dstRow + x * 3 + 2] = clip8(b);
                }
            }
        });
        return new RgbImage(outWidth, rows, dst);
    }

    private static RgbImage verticalPass(RgbImage in, Coefficients k) {
        int outHeight = k.min.length;
        int width = in.width();
        byte[] src = in.rgb();
        byte[] dst = new byte[width * outHeight * 3];
        Parallel.forRange(outHeight, Math.max(1, 65536 / Math.max(1, width * k.size)), (start, end) -> {
            for (int y = start; y < end; y++) {
                int ymin = k.min[y];
                int n = k.count[y];
                int w = y * k.size;
                for (int x = 0; x < width; x++) {
                    int r = 1 << (PRECISION_BITS - 1);
                    int g = r;
                    int b = r;
                    for (int i = 0; i < n; i++) {
                        int p = ((ymin + i) * width + x) * 3;
                        int c = k.weights[w + i];
                        r += (src[p] & 0xff) * c;
                        g += (src[p + 1] & 0xff) * c;
                        b += (src[p + 2] & 0xff) * c;
                    }
                    int d = (y * width + x) * 3;
                    dst[d] = clip8(r);
                    dst[d + 1] = clip8(g);
                    dst[d + 2] = clip8(b);
                }
            }
        });
        return new RgbImage(width, outHeight, dst);
    }

    private static byte clip8(int v) {
        if (v >= (1 << PRECISION_BITS << 8)) {
            return (byte) 255;
        }
        if (v <= 0) {
            return 0;
        }
        return (byte) (v >> PRECISION_BITS);
    }

    /**
     * Per output pixel: the first source index, the number of taps and their fixed-point weights
     * (PIL's {@code precompute_coeffs} followed by {@code normalize_coeffs_8bpc}).
     */
    private record Coefficients(int[] min, int[] count, int[] weights, int size) {
        static Coefficients of(int inSize, int outSize) {
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = SUPPORT * filterScale;
            int size = (int) Math.ceil(support) * 2 + 1;
            int[] min = new int[outSize];
            int[] count = new int[outSize];
            int[] weights = new int[outSize * size];
            double[] k = new double[size];
            for (int xx = 0; xx < outSize; xx++) {
                double center = (xx + 0.5) * scale;
                double ss = 1.0 / filterScale;
                int xmin = Math.max((int) (center - support + 0.5), 0);
                int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
                double ww = 0;
                for (int x = 0; x < xmax; x++) {
                    double w = cubic((x + xmin - center + 0.5) * ss);
                    k[x] = w;
                    ww += w;
                }
                for (int x = 0; x < xmax; x++) {
                    double w = ww != 0 ? k[x] / ww : k[x];
                    weights[xx * size + x] = (int) (w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
                }
                min[xx] = xmin;
                count[xx] = xmax;
            }
            return new Coefficients(min, count, weights, size);
        }

        Coefficients shifted(int delta) {
            int[] moved = min.clone();
            for (int i = 0; i < moved.length; i++) {
                moved[i] += delta;
            }
            return new Coefficients(moved, count, weights, size);
        }
    }
}
