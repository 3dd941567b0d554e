package nvlm.cuda.runtime;

/** An NVRTC call failed; for compile failures the message ends with the compiler log. */
public final class NvrtcException extends CudaException {
    private final String log;

    public NvrtcException(String call, int code, String text, String log) {
        super(call, code, call + " failed: " + text + " (nvrtcResult " + code + ")"
                + (log == null || log.isBlank() ? "" : "\n" + log.strip()));
        this.log = log == null ? "" : log;
    }

    /** The program log (compiler diagnostics), empty when there is none. */
    public String log() {
        return log;
    }
}
