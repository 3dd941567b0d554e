// Written in the layout of jextract output (see cuda-ffm/src/gen/bindgen.py).

package nvlm.cuda.bindings;

import java.lang.foreign.Arena;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.SequenceLayout;
import java.lang.foreign.ValueLayout.OfFloat;
import java.lang.foreign.ValueLayout.OfInt;
import java.lang.foreign.ValueLayout.OfLong;
import java.util.function.Consumer;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * {@snippet lang=c :
 * typedef struct {
 *     cublasLtMatmulAlgo_t algo;
 *     size_t workspaceSize;
 *     cublasStatus_t state;
 *     float wavesCount;
 *     int reserved[4];
 * } cublasLtMatmulHeuristicResult_t
 * }
 * 96 bytes, align 8: algo @0, workspaceSize @64, state @72, wavesCount @76, reserved @80
 * (REFERENCE.md section 5, measured by compiling).
 */
public class cublasLtMatmulHeuristicResult_t {

    cublasLtMatmulHeuristicResult_t() {
        // Should not be called directly
    }

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            cublasLtMatmulAlgo_t.layout().withName("algo"),
            cublasLt_h.C_LONG.withName("workspaceSize"),
            cublasLt_h.C_INT.withName("state"),
            cublasLt_h.C_FLOAT.withName("wavesCount"),
            MemoryLayout.sequenceLayout(4, cublasLt_h.C_INT).withName("reserved")
    ).withName("cublasLtMatmulHeuristicResult_t");

    public static final GroupLayout layout() {
        return $LAYOUT;
    }

    private static final GroupLayout algo$LAYOUT = (GroupLayout) $LAYOUT.select(groupElement("algo"));

    public static final GroupLayout algo$layout() {
        return algo$LAYOUT;
    }

    private static final long algo$OFFSET = 0;

    public static final long algo$offset() {
        return algo$OFFSET;
    }

    public static MemorySegment algo(MemorySegment struct) {
        return struct.asSlice(algo$OFFSET, algo$LAYOUT.byteSize());
    }

    public static void algo(MemorySegment struct, MemorySegment fieldValue) {
        MemorySegment.copy(fieldValue, 0L, struct, algo$OFFSET, algo$LAYOUT.byteSize());
    }

    private static final OfLong workspaceSize$LAYOUT = (OfLong) $LAYOUT.select(groupElement("workspaceSize"));

    public static final OfLong workspaceSize$layout() {
        return workspaceSize$LAYOUT;
    }

    private static final long workspaceSize$OFFSET = 64;

    public static final long workspaceSize$offset() {
        return workspaceSize$OFFSET;
    }

    public static long workspaceSize(MemorySegment struct) {
        return struct.get(workspaceSize$LAYOUT, workspaceSize$OFFSET);
    }

    public static void workspaceSize(MemorySegment struct, long fieldValue) {
        struct.set(workspaceSize$LAYOUT, workspaceSize$OFFSET, fieldValue);
    }

    private static final OfInt state$LAYOUT = (OfInt) $LAYOUT.select(groupElement("state"));

    public static final OfInt state$layout() {
        return state$LAYOUT;
    }

    private static final long state$OFFSET = 72;

    public static final long state$offset() {
        return state$OFFSET;
    }

    public static int state(MemorySegment struct) {
        return struct.get(state$LAYOUT, state$OFFSET);
    }

    public static void state(MemorySegment struct, int fieldValue) {
        struct.set(state$LAYOUT, state$OFFSET, fieldValue);
    }

    private static final OfFloat wavesCount$LAYOUT = (OfFloat) $LAYOUT.select(groupElement("wavesCount"));

    public static final OfFloat wavesCount$layout() {
        return wavesCount$LAYOUT;
    }

    private static final long wavesCount$OFFSET = 76;

    public static final long wavesCount$offset() {
        return wavesCount$OFFSET;
    }

    public static float wavesCount(MemorySegment struct) {
        return struct.get(wavesCount$LAYOUT, wavesCount$OFFSET);
    }

    public static void wavesCount(MemorySegment struct, float fieldValue) {
        struct.set(wavesCount$LAYOUT, wavesCount$OFFSET, fieldValue);
    }

    private static final SequenceLayout reserved$LAYOUT = (SequenceLayout) $LAYOUT.select(groupElement("reserved"));

    public static final SequenceLayout reserved$layout() {
        return reserved$LAYOUT;
    }

    private static final long reserved$OFFSET = 80;

    public static final long reserved$offset() {
        return reserved$OFFSET;
    }

    public static MemorySegment reserved(MemorySegment struct) {
        return struct.asSlice(reserved$OFFSET, reserved$LAYOUT.byteSize());
    }

    /** The element at {@code index} of an array of these structs. */
    public static MemorySegment asSlice(MemorySegment array, long index) {
        return array.asSlice(layout().byteSize() * index);
    }

    public static long sizeof() {
        return layout().byteSize();
    }

    public static MemorySegment allocate(SegmentAllocator allocator) {
        return allocator.allocate(layout());
    }

    public static MemorySegment allocateArray(long elementCount, SegmentAllocator allocator) {
        return allocator.allocate(MemoryLayout.sequenceLayout(elementCount, layout()));
    }

    public static MemorySegment reinterpret(MemorySegment addr, Arena arena, Consumer<MemorySegment> cleanup) {
        return addr.reinterpret(layout().byteSize(), arena, cleanup);
    }
}
