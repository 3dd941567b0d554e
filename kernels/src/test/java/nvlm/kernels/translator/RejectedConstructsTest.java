package nvlm.kernels.translator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Constructs outside the kernel subset are rejected when the kernel is created, and the error
 * names the method, the source line (the line marked {@code BAD: <kernel>} in BadKernels.java)
 * and the construct. Where javac records no line for the construct itself (a {@code try}, a
 * parameter list), the line is that of the first statement it covers.
 */
class RejectedConstructsTest {
    private static final Path SOURCE = Path.of("src/test/java/nvlm/kernels/translator/BadKernels.java");

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "allocation          | BadKernels.allocation          | allocation (new java.lang.Object)",
            "virtualCall         | BadKernels.virtualCall         | virtual call Object.hashCode()",
            "fieldWrite          | BadKernels.fieldWrite          | field write (BadKernels.counter)",
            "tryBlock            | BadKernels.tryBlock            | try/catch/finally block",
            "jdkStaticCall       | BadKernels.jdkStaticCall       | call to System.nanoTime()long, which is not a kernel intrinsic",
            "monitor             | BadKernels.monitor             | synchronized block (monitorenter)",
            "lambda              | BadKernels.lambda              | invokedynamic (a lambda",
            "stringConcatenation | BadKernels.stringConcatenation | invokedynamic (a lambda, method reference, string concatenation",
            "arrayCreation       | BadKernels.arrayCreation       | array creation (new float[])",
            "throwing            | BadKernels.throwing            | throw (new java.lang.IllegalArgumentException)",
            "mutableStaticRead   | BadKernels.mutableStaticRead   | read of static field BadKernels.nonFinal",
            "hostOnlyBufferMethod| BadKernels.hostOnlyBufferMethod| F32Buffer.length() is host-side only",
            "sharedAfterBranch   | BadKernels.sharedAfterBranch   | must be called before the kernel's first branch",
            "sharedOfVariableSize| BadKernels.sharedOfVariableSize| needs a positive compile-time constant size",
            "contextCopy         | BadKernels.contextCopy         | KernelContext may not be copied",
            "nullReference       | BadKernels.nullReference       | null is not allowed",
            "badParameter        | BadKernels.badParameter        | parameter out has type float[]",
    })
    void constructOutsideTheSubsetIsRejectedNamingMethodLineAndConstruct(String kernel, String method, String construct)
            throws IOException {
        KernelTranslationException error = assertThrows(KernelTranslationException.class,
                () -> GpuKernel.of(BadKernels.class, kernel));
        int line = markedLine(kernel);
        assertEquals(method, error.method(), error.getMessage());
        assertEquals(line, error.line(), error.getMessage());
        assertTrue(error.getMessage().startsWith(method + " (BadKernels.java:" + line + "): "), error.getMessage());
        assertTrue(error.construct().contains(construct), () -> "expected '" + construct + "' in: " + error.getMessage());
    }

    @org.junit.jupiter.api.Test
    void errorInACalledHelperNamesTheHelperAndTheCallSite() throws IOException {
        KernelTranslationException error = assertThrows(KernelTranslationException.class,
                () -> GpuKernel.of(BadKernels.class, "callsBadHelper"));
        assertEquals("BadKernels.helperThatAllocates", error.method());
        assertEquals(markedLine("helperThatAllocates"), error.line());
        assertTrue(error.construct().contains("allocation (new java.lang.StringBuilder)"), error.getMessage());
        assertTrue(error.getMessage().contains("called from BadKernels.callsBadHelper (BadKernels.java:"
                + markedLine("callsBadHelper") + ")"), error.getMessage());
    }

    private static int markedLine(String kernel) throws IOException {
        List<String> lines = Files.readAllLines(SOURCE);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).trim().endsWith("// BAD: " + kernel)) {
                return i + 1;
            }
        }
        throw new AssertionError("no line marked 'BAD: " + kernel + "' in " + SOURCE.toAbsolutePath());
    }
}
