package nvlm.kernels.translator;

import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;

/** The C types a translated value can have, plus the two stack values that have none. */
enum CType {
    INT("int", "i", int.class),
    LONG("long long", "l", long.class),
    FLOAT("float", "f", float.class),
    DOUBLE("double", "d", double.class),
    F32_PTR("float*", "f32p", F32Buffer.class),
    BF16_PTR("unsigned short*", "bf16p", BF16Buffer.class),
    F16_PTR("unsigned short*", "f16p", F16Buffer.class),
    I32_PTR("int*", "i32p", I32Buffer.class),
    I64_PTR("long long*", "i64p", I64Buffer.class),
    I8_PTR("signed char*", "i8p", I8Buffer.class),
    /** The kernel context: no C value (threadIdx and friends are implicit). */
    CONTEXT(null, "ctx", KernelContext.class),
    /** Nothing: a void return. */
    VOID("void", "v", void.class);

    final String c;
    final String suffix;
    final Class<?> javaType;

    CType(String c, String suffix, Class<?> javaType) {
        this.c = c;
        this.suffix = suffix;
        this.javaType = javaType;
    }

    boolean isPointer() {
        return Buffer.class.isAssignableFrom(javaType);
    }

    boolean isWide() {
        return this == LONG || this == DOUBLE;
    }

    /** The C type of a Java field/parameter type, or null when it has none in the kernel subset. */
    static CType of(ClassDesc desc) {
        if (desc.isPrimitive()) {
            return switch (desc.descriptorString()) {
                case "I", "Z", "B", "C", "S" -> INT;
                case "J" -> LONG;
                case "F" -> FLOAT;
                case "D" -> DOUBLE;
                case "V" -> VOID;
                default -> null;
            };
        }
        for (CType type : values()) {
            if (type.javaType != null && !type.javaType.isPrimitive()
                    && desc.equals(ClassDesc.of(type.javaType.getName()))) {
                return type;
            }
        }
        return null;
    }

    /** The C type of a Java class, or null when it has none in the kernel subset. */
    static CType of(Class<?> type) {
        return of(type.describeConstable().orElse(ConstantDescs.CD_Object));
    }

    CudaParameter.Kind parameterKind() {
        return switch (this) {
            case INT -> CudaParameter.Kind.INT;
            case LONG -> CudaParameter.Kind.LONG;
            case FLOAT -> CudaParameter.Kind.FLOAT;
            case DOUBLE -> CudaParameter.Kind.DOUBLE;
            default -> CudaParameter.Kind.POINTER;
        };
    }
}
