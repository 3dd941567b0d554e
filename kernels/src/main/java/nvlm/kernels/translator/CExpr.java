package nvlm.kernels.translator;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A C expression built from the JVM operand stack: its text, type and precedence (so operands
 * get parentheses only where C needs them), the variables it reads (a store to one of them must
 * evaluate it first), whether it reads memory or has side effects (a write or call must evaluate
 * it first), and for a few shapes the structure a later instruction rewrites (a widened float,
 * a double Math call or double arithmetic rounded back to float, a pending comparison).
 */
record CExpr(String text, CType type, int prec, Set<String> vars, boolean readsMemory, boolean sideEffects,
             Shape shape, List<CExpr> parts, String op, Number constant) {

    enum Shape { PLAIN, VAR, CONST, CONTEXT, BOOL, WIDENED_FLOAT, DOUBLE_MATH, DOUBLE_ARITH, COMPARE }

    // C precedence levels, higher binds tighter.
    static final int ATOM = 16, UNARY = 15, MUL = 13, ADD = 12, SHIFT = 11, REL = 10, EQ = 9,
            BAND = 8, XOR = 7, BOR = 6, LAND = 5, LOR = 4, COND = 3;

    static CExpr var(String name, CType type) {
        return new CExpr(name, type, ATOM, Set.of(name), false, false, Shape.VAR, List.of(), null, null);
    }

    static CExpr context() {
        return new CExpr("/*kc*/", CType.CONTEXT, ATOM, Set.of(), false, false, Shape.CONTEXT, List.of(), null, null);
    }

    static CExpr constant(Number value) {
        CType type = value instanceof Integer ? CType.INT : value instanceof Long ? CType.LONG
                : value instanceof Float ? CType.FLOAT : CType.DOUBLE;
        String text = literal(value);
        int prec = text.startsWith("-") ? UNARY : ATOM;
        return new CExpr(text, type, prec, Set.of(), false, false, Shape.CONST, List.of(), null, value);
    }

    /** An expression of the given parts; vars and memory/side-effect flags are the parts' union. */
    static CExpr of(String text, CType type, int prec, CExpr... parts) {
        return of(text, type, prec, Shape.PLAIN, null, parts);
    }

    static CExpr of(String text, CType type, int prec, Shape shape, String op, CExpr... parts) {
        Set<String> vars = new HashSet<>();
        boolean memory = false;
        boolean effects = false;
        for (CExpr part : parts) {
            vars.addAll(part.vars);
            memory |= part.readsMemory;
            effects |= part.sideEffects;
        }
        return new CExpr(text, type, prec, Set.copyOf(vars), memory, effects, shape, List.of(parts), op, null);
    }

    CExpr withMemoryRead() {
        return new CExpr(text, type, prec, vars, true, sideEffects, shape, parts, op, constant);
    }

    CExpr withSideEffects() {
        return new CExpr(text, type, prec, vars, readsMemory, true, shape, parts, op, constant);
    }

    /** Cheap to evaluate twice and unaffected by later writes to memory. */
    boolean isSimple() {
        return shape == Shape.VAR || shape == Shape.CONST || shape == Shape.CONTEXT;
    }

    /** The text, parenthesised unless it binds at least as tightly as {@code minPrec}. */
    String at(int minPrec) {
        return prec >= minPrec ? text : "(" + text + ")";
    }

    /** C literal for a Java constant (Java's shortest round-trip decimal, exact in C too). */
    static String literal(Number value) {
        return switch (value) {
            case Integer i -> i == Integer.MIN_VALUE ? "(-2147483647 - 1)" : Integer.toString(i);
            case Long l -> l == Long.MIN_VALUE ? "(-9223372036854775807LL - 1)" : l + "LL";
            case Float f -> {
                if (f.isNaN() || f.isInfinite()) {
                    yield "__int_as_float(0x" + Integer.toHexString(Float.floatToIntBits(f)) + ")";
                }
                yield Float.toString(f).replace("E", "e") + "f";
            }
            case Double d -> {
                if (d.isNaN() || d.isInfinite()) {
                    yield "__longlong_as_double(0x" + Long.toHexString(Double.doubleToLongBits(d)) + "LL)";
                }
                yield Double.toString(d).replace("E", "e");
            }
            default -> throw new IllegalArgumentException("not a primitive constant: " + value);
        };
    }
}
