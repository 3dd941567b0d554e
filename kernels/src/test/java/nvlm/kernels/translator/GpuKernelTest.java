package nvlm.kernels.translator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GpuKernelTest {

    @Test
    void elementwiseAddOnTheCpuMatchesPlainJava() {
        GpuKernel add = GpuKernel.of(SampleKernels.class, "add");
        qt().withExamples(40).forAll(integers().between(1, 3000), integers().between(1, 256), longs().all())
                .checkAssert((n, block, seed) -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    float[] a = new float[n];
                    float[] b = new float[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = (float) random.nextGaussian();
                        b[i] = (float) random.nextGaussian();
                    }
                    F32Buffer out = F32Buffer.wrap(new float[n]);
                    add.runOnCpu(LaunchConfig.covering(n, block), F32Buffer.wrap(a), F32Buffer.wrap(b), out, n);
                    for (int i = 0; i < n; i++) {
                        assertEquals(a[i] + b[i], out.get(i));
                    }
                });
    }

    @Test
    void blockTreeReductionWithBarriersAndSharedMemoryMatchesASerialSum() {
        GpuKernel blockSum = GpuKernel.of(SampleKernels.class, "blockSum");
        assertTrue(blockSum.usesBarrier());
        qt().withExamples(15).forAll(integers().between(1, 5000), integers().between(1, 6), longs().all())
                .checkAssert((n, blocks, seed) -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    float[] x = new float[n];
                    double expected = 0;
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) random.nextGaussian();
                        expected += x[i];
                    }
                    F32Buffer partial = F32Buffer.wrap(new float[blocks]);
                    blockSum.runOnCpu(LaunchConfig.of(blocks, SampleKernels.TILE), F32Buffer.wrap(x), partial, n);
                    double total = 0;
                    for (float p : partial.toArray()) {
                        total += p;
                    }
                    // float accumulation over n terms of unit size: error grows like sqrt(n) * ulp
                    assertEquals(expected, total, 1e-5 * Math.sqrt(n) * 10, "n=" + n + " blocks=" + blocks);
                });
    }

    @Test
    void translationExposesTheCParametersSharedMemoryAndBarrierUse() {
        CudaKernel sum = GpuKernel.of(SampleKernels.class, "blockSum").cuda();
        assertEquals("SampleKernels_blockSum", sum.entryName());
        assertEquals("SampleKernels_blockSum(float* x, float* partial, int n)", sum.signature());
        assertEquals(List.of(CudaParameter.Kind.POINTER, CudaParameter.Kind.POINTER, CudaParameter.Kind.INT),
                sum.parameters().stream().map(CudaParameter::kind).toList());
        assertEquals(List.of(F32Buffer.class, F32Buffer.class, int.class),
                sum.parameters().stream().map(CudaParameter::javaType).toList());
        assertEquals(4 * SampleKernels.TILE, sum.staticSharedBytes());
        assertTrue(sum.usesBarrier());
        assertTrue(sum.source().contains("extern \"C\" __global__ void SampleKernels_blockSum(float* x, float* partial, int n) {"));
        assertTrue(sum.source().contains("__shared__ float scratch_shared[64];"));
        assertTrue(sum.source().contains("__syncthreads();"));
        assertTrue(sum.source().contains("// line "));

        CudaKernel gelu = GpuKernel.of(SampleKernels.class, "geluKernel").cuda();
        assertTrue(gelu.source().contains("static __device__ float SampleKernels_gelu(float x) {"), gelu.source());
        assertTrue(gelu.source().contains("tanhf("), "float Math call narrowed to the float function");
        assertEquals(List.of(CudaParameter.Kind.POINTER, CudaParameter.Kind.POINTER, CudaParameter.Kind.LONG),
                gelu.parameters().stream().map(CudaParameter::kind).toList());
        assertFalse(gelu.usesBarrier());
        assertEquals(0, gelu.staticSharedBytes());
    }

    @Test
    void translationIsCachedPerKernelAndArchitecture() {
        GpuKernel add = GpuKernel.of(SampleKernels.class, "add");
        assertSame(add, GpuKernel.of(SampleKernels.class, "add"));
        assertSame(add.cuda("sm_90"), add.cuda("sm_90"));
        assertTrue(add.cuda("sm_80").source().contains("for sm_80"));
        assertThrows(IllegalArgumentException.class, () -> add.cuda("hopper"));
    }

    @Test
    void argumentsAreCheckedAgainstTheKernelSignature() {
        GpuKernel add = GpuKernel.of(SampleKernels.class, "add");
        F32Buffer x = F32Buffer.wrap(new float[4]);
        IllegalArgumentException wrongType = assertThrows(IllegalArgumentException.class,
                () -> add.runOnCpu(LaunchConfig.of(1, 4), x, BF16Buffer.wrapBits(new short[4]), x, 4));
        assertEquals("SampleKernels.add argument 1 (b): expected F32Buffer, got BF16Buffer", wrongType.getMessage());
        IllegalArgumentException wrongCount = assertThrows(IllegalArgumentException.class,
                () -> add.launch(LaunchConfig.of(1, 4), x, x));
        assertTrue(wrongCount.getMessage().contains("takes 4 arguments"), wrongCount.getMessage());
        assertThrows(IllegalArgumentException.class, () -> add.launch(LaunchConfig.of(1, 4), x, x, x, 4L));
    }

    @Test
    void cudaArgumentsAreDevicePointersAndScalarsInParameterOrder() {
        F32Buffer a = F32Buffer.wrap(new float[4]);
        F32Buffer b = F32Buffer.wrap(new float[4]);
        KernelLaunch launch = GpuKernel.of(SampleKernels.class, "add").launch(LaunchConfig.of(1, 4), a, b, a, 4);
        Map<Buffer, Long> device = new LinkedHashMap<>();
        device.put(a, 0x1000L);
        device.put(b, 0x2000L);
        assertEquals(List.of(0x1000L, 0x2000L, 0x1000L, 4), launch.cudaArguments(device::get));
    }

    @Test
    void aFailingKernelThreadIsNamedWithItsBlockAndThread() {
        GpuKernel add = GpuKernel.of(SampleKernels.class, "add");
        F32Buffer small = F32Buffer.wrap(new float[10]);
        IllegalStateException error = assertThrows(IllegalStateException.class,
                () -> add.runOnCpu(LaunchConfig.of(2, 8), small, small, small, 16));
        assertTrue(error.getMessage().startsWith("SampleKernels.add failed on the CPU in block (1,0,0) thread (2,0,0)"),
                error.getMessage());
    }

    @Test
    void sharedMemoryStartsPoisonedOnTheCpu() {
        F32Buffer out = F32Buffer.wrap(new float[4]);
        GpuKernel.of(SampleKernels.class, "readsSharedBeforeWriting").runOnCpu(LaunchConfig.of(1, 4), out);
        assertTrue(Float.isNaN(out.get(0)), "uninitialised shared memory must not read as zero");
    }

    @Test
    void sampleAndSemanticsKernelsCompileWithNvcc() throws Exception {
        Optional<Path> nvcc = Nvcc.find();
        assumeTrue(nvcc.isPresent(), "nvcc is not installed here: the CUDA C cannot be compiled");
        Map<String, String> sources = new LinkedHashMap<>();
        for (Class<?> owner : List.of(SampleKernels.class, SemanticsKernels.class)) {
            for (GpuKernel kernel : GpuKernel.allIn(owner)) {
                sources.put(kernel.cuda().entryName() + ".cu", kernel.cudaSource());
            }
        }
        List<String> failures = Nvcc.compileToPtx(nvcc.get(), sources, "sm_90", Files.createTempDirectory("nvlm-nvcc"));
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }
}
