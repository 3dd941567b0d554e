package nvlm.cuda.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashSet;
import java.util.Set;
import nvlm.kernels.DType;
import nvlm.kernels.gpu.Elementwise;
import nvlm.tensor.UnaryOp;
import org.junit.jupiter.api.Test;

/** The backend's choices of kernel codes and GEMM input types. */
class LaunchArithmeticTest {

    @Test
    void everyUnaryOpHasItsOwnKernelCode() {
        Set<Integer> codes = new HashSet<>();
        for (UnaryOp op : UnaryOp.values()) {
            int code = CudaBackend.unaryCode(op);
            assertEquals(true, code >= 0 && code < Elementwise.UNARY_OPS && codes.add(code), op + " -> " + code);
        }
        assertEquals(Elementwise.UNARY_OPS, codes.size());
    }

    @Test
    void gemmInputsFollowThePrecisionMode() {
        assertEquals(DType.BF16, CudaBackend.gemmInput(DType.F32, DType.F32, MatmulPrecision.BF16));
        assertEquals(DType.F32, CudaBackend.gemmInput(DType.F32, DType.F32, MatmulPrecision.TF32));
        assertEquals(DType.F32, CudaBackend.gemmInput(DType.F32, DType.F32, MatmulPrecision.F32));
        assertEquals(DType.BF16, CudaBackend.gemmInput(DType.BF16, DType.BF16, MatmulPrecision.F32));
        assertEquals(DType.F16, CudaBackend.gemmInput(DType.F16, DType.F16, MatmulPrecision.BF16));
        assertEquals(DType.F32, CudaBackend.gemmInput(DType.BF16, DType.F32, MatmulPrecision.F32));
        assertEquals(MatmulPrecision.TF32, MatmulPrecision.parse(" TF32 "));
    }
}
