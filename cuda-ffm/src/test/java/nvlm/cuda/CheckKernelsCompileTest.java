package nvlm.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The CUDA C that DeviceCheck compiles with NVRTC at run time, compile-checked here with nvcc
 * (no GPU needed), and its random fill checked against the Java mirror on the host with g++.
 */
class CheckKernelsCompileTest {

    @TempDir
    Path dir;

    private static Optional<Path> tool(String name, String... extraDirs) {
        var dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of(extraDirs));
        return dirs.stream().filter(d -> !d.isEmpty()).map(d -> Path.of(d, name)).filter(Files::isExecutable).findFirst();
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(300, TimeUnit.SECONDS), "timed out: " + command);
        assertEquals(0, process.exitValue(), command + " failed:\n" + output);
        return output;
    }

    @Test
    void checkKernelsCompileForHopperWithNvcc() throws Exception {
        Optional<Path> nvcc = tool("nvcc", "/usr/local/cuda/bin");
        assumeTrue(nvcc.isPresent(), "nvcc not on PATH or in /usr/local/cuda/bin");
        Path source = dir.resolve("check_kernels.cu");
        Files.writeString(source, DeviceCheck.kernelSource());
        Path ptx = dir.resolve("check_kernels.ptx");
        run(List.of(nvcc.get().toString(), "-arch=sm_90", "-std=c++17", "-ptx", source.toString(), "-o", ptx.toString()));
        String text = Files.readString(ptx);
        for (String kernel : List.of("vector_add", "axpby", "fill_uniform_f32", "fill_uniform_bf16", "reverse_chunks")) {
            assertTrue(text.contains(".entry " + kernel + "("), "extern \"C\" entry " + kernel + " missing from the PTX");
        }
    }

    @Test
    void deviceHashFillMatchesTheJavaMirrorBitForBit() throws Exception {
        Optional<Path> gxx = tool("g++");
        assumeTrue(gxx.isPresent(), "g++ not on PATH");
        // Compile the kernel file's `uniform` as host code and print values for indices around 2^32.
        Matcher m = Pattern.compile("__device__ float uniform\\(.*?\\n}\\n", Pattern.DOTALL)
                .matcher(DeviceCheck.kernelSource());
        assertTrue(m.find(), "uniform() not found in check_kernels.cu");
        String harness = """
                #include <cstdio>
                #include <cstring>
                #define __device__
                %s
                int main() {
                  long long starts[] = {0, 1000003, 4294967290LL};
                  for (long long s : starts) for (long long i = s; i < s + 12; i++) {
                    float v = uniform(i, 12345u);
                    unsigned int bits; std::memcpy(&bits, &v, 4);
                    std::printf("%%lld %%u\\n", i, bits);
                  }
                }
                """.formatted(m.group());
        Path cpp = dir.resolve("uniform.cpp");
        Files.writeString(cpp, harness);
        Path exe = dir.resolve("uniform");
        run(List.of(gxx.get().toString(), "-std=c++17", "-O1", "-ffp-contract=off", cpp.toString(), "-o", exe.toString()));
        int checked = 0;
        for (String line : run(List.of(exe.toString())).strip().split("\n")) {
            String[] parts = line.split(" ");
            long i = Long.parseLong(parts[0]);
            int bits = Integer.parseUnsignedInt(parts[1]);
            assertEquals(bits, Float.floatToRawIntBits(DeviceCheck.uniform(i, 12345)), "uniform(" + i + ")");
            checked++;
        }
        assertEquals(36, checked);
    }

    @Test
    void uniformValuesCoverMinusOneToOne() {
        double min = 1;
        double max = -1;
        double sum = 0;
        int n = 100_000;
        for (int i = 0; i < n; i++) {
            float v = DeviceCheck.uniform(i, 7);
            assertTrue(v >= -1 && v < 1, "uniform(" + i + ") = " + v);
            min = Math.min(min, v);
            max = Math.max(max, v);
            sum += v;
        }
        assertTrue(min < -0.999 && max > 0.999, min + " .. " + max);
        assertTrue(Math.abs(sum / n) < 0.01, "mean " + sum / n);
    }

    @Test
    void referenceGeluFormsAndErfAreAccurate() {
        // erf values from Abramowitz & Stegun table 7.1 (and erf(3.5) to 16 digits).
        assertEquals(0.5204998778130465, DeviceCheck.erf(0.5), 1e-14);
        assertEquals(0.8427007929497149, DeviceCheck.erf(1.0), 1e-14);
        assertEquals(0.9953222650189527, DeviceCheck.erf(2.0), 1e-14);
        assertEquals(0.9999992569016276, DeviceCheck.erf(3.5), 1e-14);
        assertEquals(-DeviceCheck.erf(1.3), DeviceCheck.erf(-1.3), 0);
        // The two GELU forms agree to about 1e-3 at most, and differ measurably around |x| ~ 2.
        double maxGap = 0;
        for (double x = -6; x <= 6; x += 0.001) {
            maxGap = Math.max(maxGap, Math.abs(DeviceCheck.geluTanh(x) - DeviceCheck.geluErf(x)));
        }
        assertTrue(maxGap > 1e-4 && maxGap < 1e-3, "max |tanh-GELU - erf-GELU| = " + maxGap);
        assertEquals(0.8413447460685429, DeviceCheck.geluErf(1.0), 1e-14);
    }
}
