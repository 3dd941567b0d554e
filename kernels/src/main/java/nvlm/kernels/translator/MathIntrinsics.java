package nvlm.kernels.translator;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The static JDK methods a kernel may call and their CUDA C forms. {@code java.lang.Math} and
 * {@code StrictMath} map to CUDA's math library; the GPU functions are accurate to a few ulp,
 * not correctly rounded, so float results may differ from the CPU in the last bits.
 */
final class MathIntrinsics {
    private MathIntrinsics() {
    }

    /** Double functions of java.lang.Math with a float twin in CUDA (name + "f"). */
    static final Set<String> HAS_FLOAT_TWIN = Set.of("exp", "log", "log10", "log1p", "expm1", "sqrt", "cbrt",
            "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "floor", "ceil", "rint",
            "atan2", "pow", "hypot");

    /** The C double function for a java.lang.Math double function (its own name unless C's semantics differ). */
    static String doubleFunction(String name) {
        return switch (name) {
            case "pow" -> "math_pow_d";
            case "hypot" -> "math_hypot_d";
            default -> name;
        };
    }

    /** The C float twin of a java.lang.Math double function. */
    static String floatFunction(String name) {
        return switch (name) {
            case "pow" -> "math_pow_f";
            case "hypot" -> "math_hypot_f";
            default -> name + "f";
        };
    }

    private static final Map<String, String> SIMPLE = Map.ofEntries(
            Map.entry("abs(F)F", "fabsf"), Map.entry("abs(D)D", "fabs"),
            Map.entry("abs(I)I", "math_abs_i"), Map.entry("abs(J)J", "math_abs_l"),
            Map.entry("max(II)I", "math_max_i"), Map.entry("min(II)I", "math_min_i"),
            Map.entry("max(JJ)J", "math_max_l"), Map.entry("min(JJ)J", "math_min_l"),
            Map.entry("max(FF)F", "math_max_f"), Map.entry("min(FF)F", "math_min_f"),
            Map.entry("max(DD)D", "math_max_d"), Map.entry("min(DD)D", "math_min_d"),
            Map.entry("fma(FFF)F", "fmaf"), Map.entry("fma(DDD)D", "fma"),
            Map.entry("signum(F)F", "math_signum_f"), Map.entry("signum(D)D", "math_signum_d"),
            Map.entry("copySign(FF)F", "copysignf"), Map.entry("copySign(DD)D", "copysign"),
            Map.entry("round(F)I", "math_round_f"), Map.entry("round(D)J", "math_round_d"));

    /**
     * The C expression for a call to {@code owner.name desc}, or null when the method is not an
     * intrinsic. {@code owner} is an internal name such as {@code java/lang/Math}.
     */
    static CExpr call(String owner, String name, String desc, List<CExpr> args) {
        String key = name + desc;
        switch (owner) {
            case "java/lang/Math", "java/lang/StrictMath" -> {
                if (HAS_FLOAT_TWIN.contains(name) && desc.equals(args.size() == 1 ? "(D)D" : "(DD)D")) {
                    return CExpr.of(doubleFunction(name) + "(" + joined(args) + ")", CType.DOUBLE, CExpr.ATOM,
                            CExpr.Shape.DOUBLE_MATH, name, args.toArray(CExpr[]::new));
                }
                String function = SIMPLE.get(key);
                return function == null ? null : function(function, returnType(desc), args);
            }
            case "java/lang/Float" -> {
                return switch (key) {
                    case "isNaN(F)Z" -> bool("(" + args.get(0).at(CExpr.REL) + " != " + args.get(0).at(CExpr.REL) + ")", args);
                    case "isInfinite(F)Z" -> bool("(fabsf(" + args.get(0).text() + ") == __int_as_float(0x7f800000))", args);
                    case "isFinite(F)Z" -> bool("(fabsf(" + args.get(0).text() + ") <= 3.4028235e38f)", args);
                    case "floatToRawIntBits(F)I" -> function("__float_as_int", CType.INT, args);
                    case "floatToIntBits(F)I" -> function("float_to_int_bits", CType.INT, args);
                    case "compare(FF)I" -> function("float_compare", CType.INT, args);
                    case "intBitsToFloat(I)F" -> function("__int_as_float", CType.FLOAT, args);
                    case "max(FF)F" -> function("math_max_f", CType.FLOAT, args);
                    case "min(FF)F" -> function("math_min_f", CType.FLOAT, args);
                    default -> null;
                };
            }
            case "java/lang/Double" -> {
                return switch (key) {
                    case "isNaN(D)Z" -> bool("(" + args.get(0).at(CExpr.REL) + " != " + args.get(0).at(CExpr.REL) + ")", args);
                    case "isInfinite(D)Z" -> bool("(fabs(" + args.get(0).text() + ") == __longlong_as_double(0x7ff0000000000000LL))", args);
                    case "isFinite(D)Z" -> bool("(fabs(" + args.get(0).text() + ") <= 1.7976931348623157e308)", args);
                    case "doubleToRawLongBits(D)J" -> function("__double_as_longlong", CType.LONG, args);
                    case "doubleToLongBits(D)J" -> function("double_to_long_bits", CType.LONG, args);
                    case "compare(DD)I" -> function("double_compare", CType.INT, args);
                    case "longBitsToDouble(J)D" -> function("__longlong_as_double", CType.DOUBLE, args);
                    case "max(DD)D" -> function("math_max_d", CType.DOUBLE, args);
                    case "min(DD)D" -> function("math_min_d", CType.DOUBLE, args);
                    default -> null;
                };
            }
            case "java/lang/Integer" -> {
                return switch (key) {
                    case "numberOfLeadingZeros(I)I" -> function("__clz", CType.INT, args);
                    case "bitCount(I)I" -> function("__popc", CType.INT, args);
                    case "numberOfTrailingZeros(I)I" -> CExpr.of("(" + args.get(0).at(CExpr.EQ) + " == 0 ? 32 : __ffs("
                            + args.get(0).text() + ") - 1)", CType.INT, CExpr.ATOM, args.get(0));
                    case "max(II)I" -> function("math_max_i", CType.INT, args);
                    case "min(II)I" -> function("math_min_i", CType.INT, args);
                    default -> null;
                };
            }
            case "java/lang/Long" -> {
                return switch (key) {
                    case "numberOfLeadingZeros(J)I" -> function("__clzll", CType.INT, args);
                    case "max(JJ)J" -> function("math_max_l", CType.LONG, args);
                    case "min(JJ)J" -> function("math_min_l", CType.LONG, args);
                    default -> null;
                };
            }
            default -> {
                return null;
            }
        }
    }

    private static CExpr function(String function, CType type, List<CExpr> args) {
        return CExpr.of(function + "(" + joined(args) + ")", type, CExpr.ATOM, args.toArray(CExpr[]::new));
    }

    private static CExpr bool(String text, List<CExpr> args) {
        return CExpr.of(text, CType.INT, CExpr.ATOM, CExpr.Shape.BOOL, null, args.toArray(CExpr[]::new));
    }

    static String joined(List<CExpr> args) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < args.size(); i++) {
            text.append(i == 0 ? "" : ", ").append(args.get(i).text());
        }
        return text.toString();
    }

    private static CType returnType(String desc) {
        return switch (desc.charAt(desc.length() - 1)) {
            case 'J' -> CType.LONG;
            case 'F' -> CType.FLOAT;
            case 'D' -> CType.DOUBLE;
            default -> CType.INT;
        };
    }
}
