package nvlm.tensor;

/** Where a tensor's storage lives. Each device has one {@link Backend}. */
public enum Device {
    CPU, CUDA;

    /** Parses {@code cpu} / {@code cuda} (case-insensitive), as the command line's --device takes it. */
    public static Device parse(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> CPU;
            case "cuda", "gpu" -> CUDA;
            default -> throw new IllegalArgumentException("unknown device '" + name + "' (expected cpu or cuda)");
        };
    }
}
