package nvlm.bench;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nvlm.tensor.io.Json;

/**
 * The numpy (OpenBLAS) side of a GEMM comparison: a long-lived {@code bench/python/gemm_peer.py}
 * process, so Java and numpy timings can alternate within one run. When python3 or numpy is
 * missing the peer is {@linkplain #available() unavailable} and says {@linkplain #reason() why}.
 */
final class NumpyPeer implements AutoCloseable {
    private final Process process;
    private final BufferedReader replies;
    private final BufferedWriter requests;
    private String reason;
    private String description = "";

    private NumpyPeer(Process process, String reason) {
        this.process = process;
        this.reason = reason;
        this.replies = process == null ? null
                : new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.requests = process == null ? null
                : new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
    }

    /** Starts the peer with {@code threads} BLAS threads; never throws, an unavailable peer says why. */
    static NumpyPeer start(String python, int threads) {
        Path script = script();
        if (!Files.isRegularFile(script)) {
            return new NumpyPeer(null, "peer script " + script + " not found (run through ./nvlm, which sets -Dnvlm.root)");
        }
        ProcessBuilder builder = new ProcessBuilder(python, script.toString());
        builder.environment().put("OPENBLAS_NUM_THREADS", Integer.toString(threads));
        builder.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
        builder.environment().put("MKL_NUM_THREADS", Integer.toString(threads));
        // OpenBLAS's idle workers spin for 2^28 cycles after each call (measured here: about 40 ms
        // of a core after every matmul); the Java sample that follows at once would share its cores
        // with them. 2^4 cycles: they sleep at once; waking them costs numpy microseconds per call of milliseconds.
        builder.environment().put("OPENBLAS_THREAD_TIMEOUT", "4");
        builder.redirectError(ProcessBuilder.Redirect.INHERIT);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            return new NumpyPeer(null, "cannot start '" + python + "': " + e.getMessage());
        }
        NumpyPeer peer = new NumpyPeer(process, null);
        Map<String, Object> hello = peer.receive();
        if (hello != null && hello.get("error") != null) {
            peer.fail(String.valueOf(hello.get("error")));
        } else if (hello != null) {
            peer.description = "numpy " + hello.get("numpy") + " (" + hello.get("blas") + "), "
                    + threads + " BLAS threads";
        }
        return peer;
    }

    boolean available() {
        return reason == null;
    }

    /** Why the peer is unavailable, or null. */
    String reason() {
        return reason;
    }

    String description() {
        return description;
    }

    /**
     * Per-call seconds of {@code samples} samples of C = A*B at this shape ({@code batch} products
     * per call), each sample at least
     * {@code minSeconds} long; null (and the peer unavailable) when the peer failed.
     */
    double[] time(int batch, int m, int n, int k, String layout, int samples, double minSeconds) {
        if (!available()) {
            return null;
        }
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("batch", (long) batch);
        request.put("m", (long) m);
        request.put("n", (long) n);
        request.put("k", (long) k);
        request.put("layout", layout);
        request.put("samples", (long) samples);
        request.put("min_seconds", minSeconds);
        try {
            requests.write(Json.write(request));
            requests.newLine();
            requests.flush();
        } catch (IOException e) {
            fail("peer stopped accepting requests: " + e.getMessage());
            return null;
        }
        Map<String, Object> reply = receive();
        if (reply == null) {
            return null;
        }
        if (!(reply.get("seconds") instanceof List<?> seconds)) {
            fail("peer replied without seconds: " + Json.write(reply));
            return null;
        }
        double[] result = new double[seconds.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = ((Number) seconds.get(i)).doubleValue();
        }
        return result;
    }

    private Map<String, Object> receive() {
        try {
            String line = replies.readLine();
            if (line == null) {
                fail("peer exited (status " + waitForExit() + ")");
                return null;
            }
            return Json.parseObject(line);
        } catch (IOException | IllegalArgumentException e) {
            fail("unreadable reply from peer: " + e.getMessage());
            return null;
        }
    }

    private void fail(String why) {
        if (reason == null) {
            reason = why;
        }
        if (process != null) {
            process.destroy();
        }
    }

    private String waitForExit() {
        try {
            return Integer.toString(process.waitFor());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    private static Path script() {
        String root = System.getProperty("nvlm.root");
        Path base = root == null ? Path.of("") : Path.of(root);
        return base.resolve("bench").resolve("python").resolve("gemm_peer.py");
    }

    @Override
    public void close() {
        if (process == null) {
            return;
        }
        try {
            requests.close();
        } catch (IOException ignored) {
            // the process is being shut down anyway
        }
        try {
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
