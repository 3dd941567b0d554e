package nvlm.api;

/**
 * The two JVM flags every use of the engine needs, checked before any tensor class loads so a
 * missing one is named instead of surfacing as a bare {@code NoClassDefFoundError} or an
 * illegal-native-access warning.
 */
public final class JvmFlags {
    public static final String VECTOR = "--add-modules jdk.incubator.vector";
    public static final String NATIVE = "--enable-native-access=ALL-UNNAMED";

    private JvmFlags() {
    }

    /** Throws IllegalStateException naming each missing flag. */
    public static void require() {
        StringBuilder missing = new StringBuilder();
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            missing.append("\n  ").append(VECTOR).append("   (the CPU kernels use the Vector API)");
        }
        if (!JvmFlags.class.getModule().isNativeAccessEnabled()) {
            missing.append("\n  ").append(NATIVE).append("   (tensor memory and mapped checkpoints use the FFM API;")
                    .append(" name the module instead of ALL-UNNAMED on the module path)");
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("nvlm needs JDK 25 started with these flags:" + missing
                    + "\n  e.g. java " + VECTOR + " " + NATIVE + " -cp ... YourMain");
        }
    }
}
