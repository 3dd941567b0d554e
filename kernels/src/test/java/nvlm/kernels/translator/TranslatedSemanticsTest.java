package nvlm.kernels.translator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The translated C computes what the Java method computes: both run on the same inputs (corner
 * values and random ones), the C as host C++ (see {@link HostCompiledKernels}), and every output
 * element must match bit for bit (NaNs compared as NaN), except transcendental functions, whose
 * C library differs from Java's by an ulp or so.
 */
class TranslatedSemanticsTest {
    private static final int N = 3000;

    private static final int[] INT_CORNERS = {0, 1, -1, 2, -2, 7, 31, 32, 33, 63, 64, 65, -31, -32, -33, 1000,
            Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE - 1, Integer.MIN_VALUE + 1, 0x5a5a, -1000, 1 << 20};
    private static final float[] FLOAT_CORNERS = {0f, -0f, 1f, -1f, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 0.49999997f,
            Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE, -Float.MAX_VALUE,
            Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 2.1474836E9f, -2.1474836E9f, 2.1474839E9f,
            -2.1474839E9f, 9.223372E18f, -9.223373E18f, 1e-30f, 3.4e38f, 65504f, 65520f, 65519.99f, 1e-7f, 6e-8f,
            1.0000001f, 0.99999994f, 100f, -100f};

    @Test
    void translatedKernelsComputeWhatTheJavaMethodsCompute() throws Exception {
        Optional<Path> gxx = HostCompiledKernels.gxx();
        assumeTrue(gxx.isPresent(), "g++ is not installed: the translated C cannot be run on the host");
        // -Dnvlm.test.seed=S replays a failing run (the seed is in every failure message).
        long seed = Long.getLong("nvlm.test.seed", new SplittableRandom().nextLong());
        SplittableRandom random = new SplittableRandom(seed);

        int[] ia = ints(random);
        int[] ib = ints(random);
        long[] la = longs(random);
        long[] lb = longs(random);
        float[] fa = floats(random);
        float[] fb = floats(random);

        List<KernelLaunch> launches = new ArrayList<>();
        LaunchConfig grid = LaunchConfig.covering(N, 64);
        launches.add(GpuKernel.of(SemanticsKernels.class, "intOps").launch(grid, I32Buffer.wrap(ia.clone()),
                I32Buffer.wrap(ib.clone()), I32Buffer.wrap(new int[N * SemanticsKernels.INT_OPS]), N));
        launches.add(GpuKernel.of(SemanticsKernels.class, "longOps").launch(grid, I64Buffer.wrap(la.clone()),
                I64Buffer.wrap(lb.clone()), I64Buffer.wrap(new long[N * SemanticsKernels.LONG_OPS]), N));
        launches.add(GpuKernel.of(SemanticsKernels.class, "floatOps").launch(grid, F32Buffer.wrap(fa.clone()),
                F32Buffer.wrap(fb.clone()), F32Buffer.wrap(new float[N * SemanticsKernels.FLOAT_OPS]),
                I32Buffer.wrap(new int[N * 16]), N));
        launches.add(GpuKernel.of(SemanticsKernels.class, "mathOps").launch(grid, F32Buffer.wrap(fa.clone()),
                F32Buffer.wrap(fb.clone()), F32Buffer.wrap(new float[N * SemanticsKernels.MATH_OPS]), N));
        launches.add(GpuKernel.of(SemanticsKernels.class, "conversions").launch(grid, F32Buffer.wrap(fa.clone()),
                BF16Buffer.wrapBits(new short[N]), F16Buffer.wrapBits(new short[N]), F32Buffer.wrap(new float[2 * N]), N));
        launches.add(GpuKernel.of(SemanticsKernels.class, "controlFlow").launch(grid, I32Buffer.wrap(ia.clone()),
                I32Buffer.wrap(new int[N]), I32Buffer.wrap(new int[N * SemanticsKernels.CONTROL_OPS]),
                I8Buffer.wrap(new byte[N]), N));
        launches.add(GpuKernel.of(SemanticsKernels.class, "atomics").launch(LaunchConfig.of(5, 96),
                F32Buffer.wrap(new float[8])));
        float[] sumInput = new float[1000];
        for (int i = 0; i < sumInput.length; i++) {
            sumInput[i] = (float) random.nextGaussian();
        }
        launches.add(GpuKernel.of(SampleKernels.class, "blockSum").launch(LaunchConfig.of(3, SampleKernels.TILE),
                F32Buffer.wrap(sumInput), F32Buffer.wrap(new float[3]), sumInput.length));

        String gpuDir = System.getProperty("nvlm.gpuParityDir");
        if (gpuDir != null && !gpuDir.isBlank()) {
            // On a GPU with fused multiply-adds off, everything but the transcendental functions
            // (a few ulp apart from Java's) must match Java bit for bit.
            List<ParityCase> cases = new ArrayList<>();
            for (KernelLaunch launch : launches) {
                boolean approximate = launch.kernel().name().equals("SemanticsKernels.mathOps");
                KernelLaunch copy = new KernelLaunch(launch.kernel(), launch.config(), ParityCase.copies(launch.arguments()));
                cases.add(ParityCase.run(launch.kernel().name(), copy, approximate ? 1e-6 : 0, approximate ? 1e-5 : 0,
                        List.of("--fmad=false")));
            }
            ParityCase.writeForGpu(Path.of(gpuDir).resolve("semantics"), cases);
        }
        Path work = Files.createTempDirectory("nvlm-host-c");
        List<List<Object>> host = HostCompiledKernels.run(gxx.get(), launches, work);
        for (KernelLaunch launch : launches) {
            launch.runOnCpu();
        }
        for (int c = 0; c < launches.size(); c++) {
            KernelLaunch launch = launches.get(c);
            boolean approximate = launch.kernel().name().equals("SemanticsKernels.mathOps");
            for (int a = 0; a < launch.arguments().size(); a++) {
                if (launch.arguments().get(a) instanceof Buffer java) {
                    assertSame(launch + " argument " + a + " (seed " + seed + ")", java, (Buffer) host.get(c).get(a),
                            approximate);
                }
            }
        }
    }

    private static void assertSame(String what, Buffer java, Buffer c, boolean approximate) {
        assertEquals(java.length(), c.length(), what);
        for (long i = 0; i < java.length(); i++) {
            String where = what + " element " + i;
            switch (java) {
                case F32Buffer j -> {
                    float expected = j.get(i);
                    float actual = ((F32Buffer) c).get(i);
                    if (approximate && !Float.isNaN(expected) && !Float.isInfinite(expected)) {
                        assertTrue(Math.abs(expected - actual) <= 2e-6 * Math.max(1, Math.abs(expected)),
                                where + ": Java " + expected + ", C " + actual);
                    } else {
                        assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(actual),
                                () -> where + ": Java " + expected + ", C " + actual);
                    }
                }
                case BF16Buffer j -> assertEquals(Float.floatToIntBits(j.get(i)), Float.floatToIntBits(((BF16Buffer) c).get(i)), where);
                case F16Buffer j -> assertEquals(Float.floatToIntBits(j.get(i)), Float.floatToIntBits(((F16Buffer) c).get(i)), where);
                case I32Buffer j -> assertEquals(j.get(i), ((I32Buffer) c).get(i), where);
                case I64Buffer j -> assertEquals(j.get(i), ((I64Buffer) c).get(i), where);
                case I8Buffer j -> assertEquals(j.get(i), ((I8Buffer) c).get(i), where);
            }
        }
    }

    private static int[] ints(SplittableRandom random) {
        int[] values = new int[N];
        for (int i = 0; i < N; i++) {
            values[i] = i < INT_CORNERS.length * INT_CORNERS.length
                    ? (random.nextBoolean() ? INT_CORNERS[random.nextInt(INT_CORNERS.length)] : random.nextInt(-70, 70))
                    : random.nextInt();
        }
        return values;
    }

    private static long[] longs(SplittableRandom random) {
        long[] values = new long[N];
        for (int i = 0; i < N; i++) {
            values[i] = switch (random.nextInt(4)) {
                case 0 -> INT_CORNERS[random.nextInt(INT_CORNERS.length)];
                case 1 -> random.nextBoolean() ? Long.MIN_VALUE : Long.MAX_VALUE;
                case 2 -> random.nextInt(-130, 130);
                default -> random.nextLong();
            };
        }
        return values;
    }

    private static float[] floats(SplittableRandom random) {
        float[] values = new float[N];
        for (int i = 0; i < N; i++) {
            values[i] = switch (random.nextInt(4)) {
                case 0 -> FLOAT_CORNERS[random.nextInt(FLOAT_CORNERS.length)];
                case 1 -> Float.intBitsToFloat(random.nextInt());
                case 2 -> (float) random.nextGaussian() * 10;
                default -> random.nextInt(-8, 8) * 0.5f;
            };
        }
        return values;
    }
}
