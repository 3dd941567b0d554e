package nvlm.kernels.translator;

import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeElement;
import java.lang.classfile.CodeModel;
import java.lang.classfile.Instruction;
import java.lang.classfile.Label;
import java.lang.classfile.MethodModel;
import java.lang.classfile.Opcode;
import java.lang.classfile.TypeKind;
import java.lang.classfile.instruction.ArrayLoadInstruction;
import java.lang.classfile.instruction.ArrayStoreInstruction;
import java.lang.classfile.instruction.BranchInstruction;
import java.lang.classfile.instruction.ConstantInstruction;
import java.lang.classfile.instruction.ConvertInstruction;
import java.lang.classfile.instruction.DiscontinuedInstruction;
import java.lang.classfile.instruction.ExceptionCatch;
import java.lang.classfile.instruction.FieldInstruction;
import java.lang.classfile.instruction.IncrementInstruction;
import java.lang.classfile.instruction.InvokeDynamicInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.LabelTarget;
import java.lang.classfile.instruction.LineNumber;
import java.lang.classfile.instruction.LoadInstruction;
import java.lang.classfile.instruction.LocalVariable;
import java.lang.classfile.instruction.LookupSwitchInstruction;
import java.lang.classfile.instruction.MonitorInstruction;
import java.lang.classfile.instruction.NewMultiArrayInstruction;
import java.lang.classfile.instruction.NewObjectInstruction;
import java.lang.classfile.instruction.NewPrimitiveArrayInstruction;
import java.lang.classfile.instruction.NewReferenceArrayInstruction;
import java.lang.classfile.instruction.NopInstruction;
import java.lang.classfile.instruction.OperatorInstruction;
import java.lang.classfile.instruction.ReturnInstruction;
import java.lang.classfile.instruction.StackInstruction;
import java.lang.classfile.instruction.StoreInstruction;
import java.lang.classfile.instruction.SwitchCase;
import java.lang.classfile.instruction.TableSwitchInstruction;
import java.lang.classfile.instruction.ThrowInstruction;
import java.lang.classfile.instruction.TypeCheckInstruction;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.reflect.AccessFlag;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Translates one method's bytecode to one C function, checking on the way that it stays inside
 * the kernel subset.
 *
 * <p>The design is the plain one: the JVM operand stack is simulated with C expressions, which
 * are folded into larger expressions as long as Java's evaluation order is kept (an expression
 * is evaluated into a temporary before a store to a variable it reads, or before a write or call
 * when it reads memory or calls). Every JVM local slot becomes one C variable per type, named
 * after the LocalVariableTable; basic blocks become labels and the branches gotos; the values
 * still on the stack at a block boundary (a {@code c ? a : b}) go through one variable per stack
 * depth and type. All variables are declared at the top so that gotos never cross an
 * initialisation.
 */
final class MethodTranslator {
    private static final Set<String> RESERVED = Set.of(
            // C and C++ keywords that are not Java keywords, and C names the output relies on.
            "auto", "bool", "delete", "extern", "friend", "inline", "mutable", "namespace", "operator", "register",
            "restrict", "signed", "sizeof", "struct", "template", "typedef", "typename", "union", "unsigned", "using",
            "virtual", "explicit", "export", "asm", "and", "or", "not", "xor", "compl", "bitand", "bitor", "and_eq",
            "or_eq", "xor_eq", "not_eq", "constexpr", "decltype", "nullptr", "alignas", "alignof", "typeid",
            "static_assert", "thread_local", "char16_t", "char32_t", "wchar_t", "main", "NULL",
            "threadIdx", "blockIdx", "blockDim", "gridDim", "warpSize", "atomicAdd", "min", "max", "abs");

    /** Every function name the prelude or a Math translation may call: a local of that name would hide it. */
    private static boolean isCFunctionName(String name) {
        if (CudaPrelude.TEXT.contains(" " + name + "(") || name.startsWith("__")) {
            return true;
        }
        for (String function : MathIntrinsics.HAS_FLOAT_TWIN) {
            if (name.equals(function) || name.equals(MathIntrinsics.floatFunction(function))) {
                return true;
            }
        }
        return Set.of("fabs", "fabsf", "fma", "fmaf", "fmod", "fmodf", "copysign", "copysignf").contains(name);
    }

    private final CudaTranslator session;
    private final Method method;
    private final MethodModel model;
    private final String displayName;
    private final String sourceFile;
    private final boolean isKernel;
    final String cName;
    /** The C definition, once {@link #translate()} has run. */
    String translatedText;

    private List<CodeElement> elements;
    private int[] lineAt;
    private final Map<Label, Integer> labelIndex = new HashMap<>();
    private final Set<Label> targets = new HashSet<>();
    private final Set<Label> tryStarts = new HashSet<>();
    private final Map<Label, String> labelNames = new HashMap<>();
    private final List<LocalVariable> localVariables = new ArrayList<>();
    private final Map<String, Set<String>> lvtNames = new HashMap<>();
    /** Slot:type pairs with an access no LocalVariableTable entry accounts for: one C variable for all. */
    private final Set<String> merged = new HashSet<>();
    private final Map<String, String> varNames = new HashMap<>();
    private final Set<String> usedNames = new HashSet<>();

    private final List<CExpr> stack = new ArrayList<>();
    private final Map<Label, List<CType>> entryTypes = new HashMap<>();
    private final Map<Integer, CType> refSlotTypes = new HashMap<>();
    private boolean reachable = true;
    private boolean branchSeen;
    private int index;
    private int currentLine;
    private int lastEmittedLine = -1;
    private int temps;

    private final StringBuilder body = new StringBuilder();
    private final LinkedHashMap<String, CType> declared = new LinkedHashMap<>();
    private final List<String> sharedDeclarations = new ArrayList<>();
    private final List<String> cParameters = new ArrayList<>();
    final List<CudaParameter> parameters = new ArrayList<>();
    private CType returnType;
    private int contextSlot = -1;

    int sharedBytes;
    boolean usesBarrier;
    boolean usesAtomics;
    /** Helpers this method calls, with the first call site (for error messages). */
    final LinkedHashMap<Method, String> callees = new LinkedHashMap<>();

    MethodTranslator(CudaTranslator session, Method method, ClassModel classModel, MethodModel model,
                     String sourceFile, boolean isKernel, String cName) {
        this.session = session;
        this.method = method;
        this.model = model;
        this.displayName = CudaTranslator.ownerName(method.getDeclaringClass()) + "." + method.getName();
        this.sourceFile = sourceFile;
        this.isKernel = isKernel;
        this.cName = cName;
    }

    // ---- errors and output -------------------------------------------------------------------

    private KernelTranslationException reject(String construct) {
        return new KernelTranslationException(displayName, sourceFile, currentLine, construct);
    }

    private String location() {
        return displayName + " (" + sourceFile + ":" + currentLine + ")";
    }

    private void emit(String statement) {
        if (currentLine > 0 && currentLine != lastEmittedLine) {
            body.append("    // line ").append(currentLine).append('\n');
            lastEmittedLine = currentLine;
        }
        body.append("    ").append(statement).append('\n');
    }

    private String declare(String name, CType type) {
        if (!isParameterName(name)) {
            declared.putIfAbsent(name, type);
        }
        return name;
    }

    private boolean isParameterName(String name) {
        for (CudaParameter p : parameters) {
            if (p.name().equals(name)) {
                return true;
            }
        }
        return false;
    }

    // ---- the translation -----------------------------------------------------------------------

    /** Translates the method; returns the C definition. */
    String translate() {
        int flags = method.getModifiers();
        currentLine = 0;
        if (!Modifier.isStatic(flags)) {
            throw reject("is an instance method; kernels and the methods they call must be static");
        }
        if (Modifier.isSynchronized(flags)) {
            throw reject("is synchronized; monitors are not allowed in a kernel");
        }
        CodeModel code = model.code().orElseThrow(() -> reject("has no bytecode (abstract or native)"));
        analyze(code);
        declareParameters();
        for (index = 0; index < elements.size(); index++) {
            CodeElement element = elements.get(index);
            currentLine = lineAt[index];
            switch (element) {
                case LabelTarget target -> onLabel(target.label());
                case Instruction instruction -> {
                    if (reachable) {
                        translate(instruction);
                    }
                }
                default -> {
                    // line numbers, local variable scopes, character ranges: already read by analyze()
                }
            }
        }
        return definition();
    }

    private void analyze(CodeModel code) {
        elements = code.elementList();
        lineAt = new int[elements.size()];
        int line = 0;
        for (int i = 0; i < elements.size(); i++) {
            CodeElement element = elements.get(i);
            if (element instanceof LineNumber number) {
                line = number.line();
            }
            lineAt[i] = line;
            switch (element) {
                case LabelTarget target -> labelIndex.put(target.label(), i);
                case BranchInstruction branch -> targets.add(branch.target());
                case LookupSwitchInstruction lookup -> {
                    targets.add(lookup.defaultTarget());
                    lookup.cases().forEach(c -> targets.add(c.target()));
                }
                case TableSwitchInstruction table -> {
                    targets.add(table.defaultTarget());
                    table.cases().forEach(c -> targets.add(c.target()));
                }
                case LocalVariable variable -> localVariables.add(variable);
                default -> {
                }
            }
        }
        // A label's line is that of the instruction it marks (its LineNumber may come after it).
        for (int i = elements.size() - 1, next = line; i >= 0; i--) {
            if (elements.get(i) instanceof Instruction) {
                next = lineAt[i];
            } else if (elements.get(i) instanceof LabelTarget) {
                lineAt[i] = next;
            }
        }
        for (ExceptionCatch handler : code.exceptionHandlers()) {
            tryStarts.add(handler.tryStart());
        }
        List<Label> ordered = new ArrayList<>(targets);
        ordered.sort((a, b) -> Integer.compare(labelIndex.get(a), labelIndex.get(b)));
        for (Label label : ordered) {
            labelNames.put(label, "L" + (labelNames.size() + 1));
        }
        for (LocalVariable variable : localVariables) {
            CType type = CType.of(variable.typeSymbol());
            if (type != null) {
                lvtNames.computeIfAbsent(variable.slot() + ":" + type, k -> new TreeSet<>())
                        .add(variable.name().stringValue());
            }
        }
        for (int i = 0; i < elements.size(); i++) {
            int slot;
            TypeKind kind;
            switch (elements.get(i)) {
                case LoadInstruction load -> {
                    slot = load.slot();
                    kind = load.typeKind();
                }
                case StoreInstruction store -> {
                    slot = store.slot();
                    kind = store.typeKind();
                }
                case IncrementInstruction increment -> {
                    slot = increment.slot();
                    kind = TypeKind.INT;
                }
                default -> {
                    continue;
                }
            }
            if (kind == TypeKind.REFERENCE) {
                if (attribute(slot, null, i) == null) {
                    merged.add(slot + ":REF");
                }
            } else {
                CType type = kind == TypeKind.LONG ? CType.LONG : kind == TypeKind.FLOAT ? CType.FLOAT
                        : kind == TypeKind.DOUBLE ? CType.DOUBLE : CType.INT;
                if (attribute(slot, type, i) == null) {
                    merged.add(slot + ":" + type);
                }
            }
        }
    }

    /**
     * The LocalVariableTable entry for an access of {@code slot} at element {@code at}: the one
     * whose scope holds it, or for a store, the one whose scope starts right after it. Null when
     * none does (then all accesses of the slot and type share one C variable, which is exactly the
     * JVM's semantics; naming each Java variable separately is only for readability). A null
     * {@code type} matches any buffer type.
     */
    private LocalVariable attribute(int slot, CType type, int at) {
        LocalVariable following = null;
        for (LocalVariable variable : localVariables) {
            CType variableType = CType.of(variable.typeSymbol());
            boolean matches = type == null ? variableType != null && variableType.isPointer() : variableType == type;
            if (variable.slot() != slot || !matches) {
                continue;
            }
            int start = labelIndex.get(variable.startScope());
            int end = labelIndex.get(variable.endScope());
            if (start <= at && at < end) {
                return variable;
            }
            if (start > at && following == null) {
                boolean adjacent = true;
                for (int i = at + 1; i < start && adjacent; i++) {
                    adjacent = !(elements.get(i) instanceof Instruction);
                }
                if (adjacent) {
                    following = variable;
                }
            }
        }
        return following;
    }

    private void declareParameters() {
        MethodTypeDesc type = model.methodTypeSymbol();
        java.lang.reflect.Parameter[] reflected = method.getParameters();
        int slot = 0;
        currentLine = firstLine();
        index = 0;
        while (index < elements.size() - 1 && !(elements.get(index) instanceof Instruction)) {
            index++;  // parameters are named by the LocalVariableTable entries covering the first instruction
        }
        for (int i = 0; i < type.parameterCount(); i++) {
            ClassDesc desc = type.parameterType(i);
            CType ctype = CType.of(desc);
            String javaName = reflected[i].getName();
            for (LocalVariable variable : localVariables) {
                if (variable.slot() == slot && labelIndex.get(variable.startScope()) <= index) {
                    javaName = variable.name().stringValue();
                }
            }
            if (ctype == null || ctype == CType.VOID) {
                throw reject("parameter " + javaName + " has type " + desc.displayName()
                        + "; kernel parameters are primitives and buffers (F32Buffer, BF16Buffer, F16Buffer, "
                        + "I32Buffer, I64Buffer, I8Buffer), after a leading KernelContext");
            }
            if (ctype == CType.CONTEXT) {
                if (i != 0) {
                    throw reject("the KernelContext must be the first parameter, found it at position " + i);
                }
                contextSlot = slot;
            } else {
                if (ctype.isPointer()) {
                    refSlotTypes.put(slot, ctype);
                }
                String name = variable(slot, ctype);
                declared.remove(name);
                parameters.add(new CudaParameter(name, ctype.c, ctype.parameterKind(), reflected[i].getType()));
                cParameters.add(ctype.c + " " + name);
            }
            slot += desc.isPrimitive() && (desc.descriptorString().equals("J") || desc.descriptorString().equals("D")) ? 2 : 1;
        }
        if (isKernel && contextSlot != 0) {
            throw reject("a kernel's first parameter must be the KernelContext");
        }
        returnType = CType.of(type.returnType());
        if (isKernel && returnType != CType.VOID) {
            throw reject("a kernel must return void, this one returns " + type.returnType().displayName());
        }
        if (returnType == null || returnType.isPointer() || returnType == CType.CONTEXT) {
            throw reject("returns " + type.returnType().displayName()
                    + "; a kernel helper returns a primitive or nothing");
        }
    }

    private int firstLine() {
        for (int line : lineAt) {
            if (line > 0) {
                return line;
            }
        }
        return 0;
    }

    private String definition() {
        StringBuilder text = new StringBuilder();
        text.append("// ").append(displayName).append(" (").append(sourceFile).append(':').append(firstLine()).append(")\n");
        text.append(prototype()).append(" {\n");
        for (String shared : sharedDeclarations) {
            text.append("    ").append(shared).append('\n');
        }
        Map<CType, List<String>> byType = new LinkedHashMap<>();
        for (Map.Entry<String, CType> entry : declared.entrySet()) {
            byType.computeIfAbsent(entry.getValue(), k -> new ArrayList<>()).add(entry.getKey());
        }
        for (Map.Entry<CType, List<String>> entry : byType.entrySet()) {
            String c = entry.getKey().c;
            boolean pointer = c.endsWith("*");
            String base = pointer ? c.substring(0, c.length() - 1) : c;
            List<String> names = entry.getValue();
            for (int i = 0; i < names.size(); i += 8) {
                List<String> chunk = names.subList(i, Math.min(names.size(), i + 8));
                text.append("    ").append(base).append(' ')
                        .append(String.join(", ", chunk.stream().map(n -> pointer ? "*" + n : n).toList()))
                        .append(";\n");
            }
        }
        text.append(body);
        text.append("}\n");
        return text.toString();
    }

    String prototype() {
        String params = cParameters.isEmpty() ? "void" : String.join(", ", cParameters);
        if (isKernel) {
            return "extern \"C\" __global__ void " + cName + "(" + params + ")";
        }
        return "static __device__ " + returnType.c + " " + cName + "(" + params + ")";
    }

    // ---- variables -----------------------------------------------------------------------------

    /** The C variable of JVM local {@code slot} holding values of {@code type}, at the current instruction. */
    private String variable(int slot, CType type) {
        String key = slot + ":" + type;
        LocalVariable attributed = null;
        if (!merged.contains(key) && !(type.isPointer() && merged.contains(slot + ":REF"))) {
            attributed = attribute(slot, type, index);
        }
        if (attributed != null) {
            key = key + ":" + attributed.name().stringValue();
        }
        String name = varNames.get(key);
        if (name != null) {
            return declare(name, type);
        }
        Set<String> names = lvtNames.get(slot + ":" + type);
        String candidate = attributed != null ? attributed.name().stringValue()
                : names == null ? "local" + slot + "_" + type.suffix : String.join("_", names);
        if (RESERVED.contains(candidate) || isCFunctionName(candidate) || candidate.matches("(tmp|stack|local)\\d+.*")
                || candidate.equals(cName) || candidate.matches("shared\\d+|.*_shared")) {
            candidate = candidate + "_";
        }
        if (usedNames.contains(candidate)) {
            // Another Java variable of the same name (a second loop's i): i2, i3, ...
            String base = candidate.matches(".*\\d") ? candidate + "_" : candidate;
            int ordinal = 2;
            while (usedNames.contains(base + ordinal)) {
                ordinal++;
            }
            candidate = base + ordinal;
        }
        usedNames.add(candidate);
        varNames.put(key, candidate);
        return declare(candidate, type);
    }

    /** The buffer type of reference local {@code slot} at the current instruction. */
    private CType referenceType(int slot) {
        for (LocalVariable variable : localVariables) {
            if (variable.slot() == slot && labelIndex.get(variable.startScope()) <= index
                    && index < labelIndex.get(variable.endScope())) {
                CType type = CType.of(variable.typeSymbol());
                if (type != null && (type.isPointer() || type == CType.CONTEXT)) {
                    return type;
                }
                throw reject("local variable " + variable.name().stringValue() + " has type "
                        + variable.typeSymbol().displayName() + "; kernels only hold primitives and buffers");
            }
        }
        CType type = refSlotTypes.get(slot);
        if (type == null) {
            throw reject("cannot tell the type of reference local #" + slot + " (compile with -g)");
        }
        return type;
    }

    private CExpr temporary(CExpr value) {
        String name = declare("tmp" + (++temps), value.type());
        emit(name + " = " + value.text() + ";");
        return CExpr.var(name, value.type());
    }

    private String stackVariable(int depth, CType type) {
        return declare("stack" + depth + "_" + type.suffix, type);
    }

    // ---- the operand stack ---------------------------------------------------------------------

    private void push(CExpr value) {
        stack.add(value);
    }

    private CExpr pop() {
        if (stack.isEmpty()) {
            throw new IllegalStateException(location() + ": operand stack underflow (a bug in the translator)");
        }
        CExpr value = stack.removeLast();
        return value.shape() == CExpr.Shape.COMPARE ? compareValue(value) : value;
    }

    private CExpr popRaw() {
        return stack.removeLast();
    }

    /** Evaluates into temporaries, in stack order, the stack values matching {@code test}. */
    private void spill(Predicate<CExpr> test) {
        for (int i = 0; i < stack.size(); i++) {
            CExpr value = stack.get(i);
            if (value.shape() == CExpr.Shape.COMPARE) {
                value = compareValue(value);
                stack.set(i, value);
            }
            boolean constant = value.shape() == CExpr.Shape.CONST || value.shape() == CExpr.Shape.CONTEXT;
            if (!constant && test.test(value)) {
                stack.set(i, temporary(value));
            }
        }
    }

    /** Before a write to memory, a barrier or a call: evaluate what reads memory or calls. */
    private void spillMemory() {
        spill(v -> v.readsMemory() || v.sideEffects());
    }

    /** Before assigning {@code name}: evaluate what reads it. */
    private void spillReaders(String name) {
        spill(v -> v.vars().contains(name));
    }

    private List<CType> stackTypes() {
        return stack.stream().map(CExpr::type).toList();
    }

    /**
     * At the end of a basic block: puts each stack value into the variable of its depth and type,
     * which is where the next block expects it. {@code keep} is evaluated first when it reads a
     * variable the flush assigns (the branch condition).
     */
    private CExpr flush(CExpr keep) {
        if (keep != null && (keep.sideEffects() || keep.readsMemory())) {
            spillMemory();  // values pushed before the condition are evaluated before it
        }
        Map<Integer, CExpr> assignments = new LinkedHashMap<>();
        Set<String> assigned = new HashSet<>();
        for (int i = 0; i < stack.size(); i++) {
            CExpr value = stack.get(i);
            if (value.shape() == CExpr.Shape.COMPARE) {
                value = compareValue(value);
            }
            if (value.type() == CType.CONTEXT) {
                continue;
            }
            String target = stackVariable(i, value.type());
            if (!value.text().equals(target)) {
                assignments.put(i, value);
                assigned.add(target);
            }
        }
        boolean hazard = false;
        for (CExpr value : assignments.values()) {
            for (String name : assigned) {
                hazard |= value.vars().contains(name);
            }
        }
        if (hazard) {
            assignments.replaceAll((i, v) -> v.isSimple() && !assigned.contains(v.text()) ? v : temporary(v));
        }
        if (keep != null && !keep.isSimple() && (keep.vars().stream().anyMatch(assigned::contains)
                || keep.sideEffects() || keep.readsMemory())) {
            keep = temporary(keep);
        }
        for (Map.Entry<Integer, CExpr> entry : assignments.entrySet()) {
            String target = stackVariable(entry.getKey(), entry.getValue().type());
            emit(target + " = " + entry.getValue().text() + ";");
        }
        for (int i = 0; i < stack.size(); i++) {
            if (stack.get(i).type() != CType.CONTEXT) {
                CType type = stack.get(i).shape() == CExpr.Shape.COMPARE ? CType.INT : stack.get(i).type();
                stack.set(i, CExpr.var(stackVariable(i, type), type));
            }
        }
        return keep;
    }

    private void recordEntry(Label target) {
        List<CType> types = stackTypes().stream().map(t -> t == null ? CType.INT : t).toList();
        List<CType> previous = entryTypes.putIfAbsent(target, types);
        if (previous != null && !previous.equals(types)) {
            throw reject("the operand stack differs between two paths into " + labelNames.get(target) + ": "
                    + previous + " and " + types);
        }
    }

    private void onLabel(Label label) {
        if (tryStarts.contains(label)) {
            throw reject("try/catch/finally block (its first statement is on this line): exceptions are not "
                    + "allowed in a kernel");
        }
        if (!targets.contains(label)) {
            return;
        }
        branchSeen = true;
        if (reachable) {
            flush(null);
            recordEntry(label);
        } else {
            List<CType> types = entryTypes.get(label);
            if (types == null) {
                return;  // reached only by a backward branch from code after it: unreachable
            }
            stack.clear();
            for (int i = 0; i < types.size(); i++) {
                stack.add(types.get(i) == CType.CONTEXT ? CExpr.context() : CExpr.var(stackVariable(i, types.get(i)), types.get(i)));
            }
            reachable = true;
        }
        body.append(labelNames.get(label)).append(":;\n");
        lastEmittedLine = -1;
    }

    // ---- instructions --------------------------------------------------------------------------

    private void translate(Instruction instruction) {
        switch (instruction) {
            case LoadInstruction load -> load(load);
            case StoreInstruction store -> store(store);
            case IncrementInstruction increment -> {
                String name = variable(increment.slot(), CType.INT);
                spillReaders(name);
                int amount = increment.constant();
                emit(name + " = " + (amount < 0 && amount != Integer.MIN_VALUE
                        ? "isub(" + name + ", " + (-amount) + ")" : "iadd(" + name + ", " + CExpr.literal(amount) + ")") + ";");
            }
            case ConstantInstruction constant -> constant(constant);
            case OperatorInstruction operator -> operator(operator);
            case ConvertInstruction convert -> convert(convert);
            case StackInstruction stackOp -> stackOperation(stackOp.opcode());
            case BranchInstruction branch -> branch(branch);
            case LookupSwitchInstruction lookup -> switchTo(lookup.defaultTarget(), lookup.cases());
            case TableSwitchInstruction table -> switchTo(table.defaultTarget(), table.cases());
            case ReturnInstruction ret -> {
                if (ret.typeKind() == TypeKind.VOID) {
                    spillMemory();
                    emit("return;");
                } else {
                    CExpr value = pop();
                    emit("return " + value.text() + ";");
                }
                stack.clear();
                reachable = false;
            }
            case InvokeInstruction invoke -> invoke(invoke);
            case FieldInstruction field -> field(field);
            case InvokeDynamicInstruction indy -> throw reject("invokedynamic (a lambda, method reference, string "
                    + "concatenation or pattern switch) is not allowed in a kernel");
            case NewObjectInstruction alloc -> throw reject(newObject(alloc));
            case NewPrimitiveArrayInstruction array -> throw reject("array creation (new "
                    + array.typeKind().upperBound().displayName() + "[]) is not allowed in a kernel; use a buffer "
                    + "parameter or kc.sharedF32/sharedI32");
            case NewReferenceArrayInstruction array -> throw reject("array creation (new "
                    + array.componentType().asSymbol().displayName() + "[]) is not allowed in a kernel");
            case NewMultiArrayInstruction array -> throw reject("array creation (new "
                    + array.arrayType().asSymbol().displayName() + ") is not allowed in a kernel");
            case ArrayLoadInstruction load -> throw reject("array access is not allowed in a kernel; use a buffer");
            case ArrayStoreInstruction store -> throw reject("array access is not allowed in a kernel; use a buffer");
            case ThrowInstruction t -> throw reject("throw is not allowed in a kernel (no exceptions on the GPU)");
            case MonitorInstruction m -> throw reject("synchronized block (" + m.opcode().name().toLowerCase()
                    + ") is not allowed in a kernel");
            case TypeCheckInstruction check -> throw reject(check.opcode().name().toLowerCase() + " of "
                    + check.type().asSymbol().displayName() + ": reference casts and type tests are not allowed in a kernel");
            case NopInstruction nop -> {
            }
            case DiscontinuedInstruction d -> throw reject("jsr/ret (a subroutine) is not allowed in a kernel");
            default -> throw reject("instruction " + instruction.opcode().name().toLowerCase() + " is not allowed in a kernel");
        }
    }

    private String newObject(NewObjectInstruction alloc) {
        String type = alloc.className().asInternalName().replace('/', '.');
        try {
            if (Throwable.class.isAssignableFrom(Class.forName(type, false, method.getDeclaringClass().getClassLoader()))) {
                return "throw (new " + type + "): exceptions are not allowed in a kernel";
            }
        } catch (ClassNotFoundException | LinkageError e) {
            // not loadable: report it as the allocation it is
        }
        return "allocation (new " + type + ") is not allowed in a kernel";
    }

    private void load(LoadInstruction load) {
        int slot = load.slot();
        if (load.typeKind() == TypeKind.REFERENCE) {
            if (slot == contextSlot) {
                push(CExpr.context());
                return;
            }
            CType type = referenceType(slot);
            if (type == CType.CONTEXT) {
                push(CExpr.context());
                return;
            }
            push(CExpr.var(variable(slot, type), type));
            return;
        }
        CType type = primitive(load.typeKind());
        push(CExpr.var(variable(slot, type), type));
    }

    private void store(StoreInstruction store) {
        CExpr value = pop();
        int slot = store.slot();
        CType type;
        if (store.typeKind() == TypeKind.REFERENCE) {
            if (value.type() == CType.CONTEXT) {
                throw reject("the KernelContext may not be copied into another local variable");
            }
            if (slot == contextSlot) {
                throw reject("the KernelContext parameter may not be reassigned");
            }
            type = value.type();
            refSlotTypes.put(slot, type);
        } else {
            type = primitive(store.typeKind());
        }
        String name = variable(slot, type);
        if (value.sideEffects() || value.readsMemory()) {
            spillMemory();  // values pushed earlier are evaluated before this one
        }
        spillReaders(name);
        if (!value.text().equals(name)) {
            emit(name + " = " + value.text() + ";");
        }
    }

    private CType primitive(TypeKind kind) {
        return switch (kind) {
            case INT, BOOLEAN, BYTE, CHAR, SHORT -> CType.INT;
            case LONG -> CType.LONG;
            case FLOAT -> CType.FLOAT;
            case DOUBLE -> CType.DOUBLE;
            default -> throw reject("a value of type " + kind + " is not allowed in a kernel");
        };
    }

    private void constant(ConstantInstruction constant) {
        Object value = constant.constantValue();
        if (value == null || constant.opcode() == Opcode.ACONST_NULL) {
            throw reject("null is not allowed in a kernel (there are no references besides buffers)");
        }
        if (value instanceof Integer || value instanceof Long || value instanceof Float || value instanceof Double) {
            push(CExpr.constant((Number) value));
            return;
        }
        throw reject("a constant of type " + value.getClass().getSimpleName() + " (" + value
                + ") is not allowed in a kernel; only primitive constants are");
    }

    private void operator(OperatorInstruction operator) {
        Opcode op = operator.opcode();
        switch (op) {
            case IADD -> call2("iadd", CType.INT);
            case ISUB -> call2("isub", CType.INT);
            case IMUL -> call2("imul", CType.INT);
            case IDIV -> call2("idiv", CType.INT);
            case IREM -> call2("irem", CType.INT);
            case ISHL -> call2("ishl", CType.INT);
            case ISHR -> call2("ishr", CType.INT);
            case IUSHR -> call2("iushr", CType.INT);
            case LADD -> call2("ladd", CType.LONG);
            case LSUB -> call2("lsub", CType.LONG);
            case LMUL -> call2("lmul", CType.LONG);
            case LDIV -> call2("ldiv", CType.LONG);
            case LREM -> call2("lrem", CType.LONG);
            case LSHL -> call2("lshl", CType.LONG);
            case LSHR -> call2("lshr", CType.LONG);
            case LUSHR -> call2("lushr", CType.LONG);
            case INEG -> call1("ineg", CType.INT);
            case LNEG -> call1("lneg", CType.LONG);
            case IAND, LAND -> binary("&", CExpr.BAND, op == Opcode.IAND ? CType.INT : CType.LONG);
            case IOR, LOR -> binary("|", CExpr.BOR, op == Opcode.IOR ? CType.INT : CType.LONG);
            case IXOR, LXOR -> binary("^", CExpr.XOR, op == Opcode.IXOR ? CType.INT : CType.LONG);
            case FADD -> binary("+", CExpr.ADD, CType.FLOAT);
            case FSUB -> binary("-", CExpr.ADD, CType.FLOAT);
            case FMUL -> binary("*", CExpr.MUL, CType.FLOAT);
            case FDIV -> binary("/", CExpr.MUL, CType.FLOAT);
            case FREM -> call2("fmodf", CType.FLOAT);
            case DADD -> doubleArithmetic("+", CExpr.ADD);
            case DSUB -> doubleArithmetic("-", CExpr.ADD);
            case DMUL -> doubleArithmetic("*", CExpr.MUL);
            case DDIV -> doubleArithmetic("/", CExpr.MUL);
            case DREM -> call2("fmod", CType.DOUBLE);
            case FNEG, DNEG -> {
                CExpr a = pop();
                String operand = a.at(CExpr.UNARY);
                push(CExpr.of("-" + (operand.startsWith("-") ? "(" + operand + ")" : operand), a.type(), CExpr.UNARY, a));
            }
            case LCMP, FCMPL, FCMPG, DCMPL, DCMPG -> {
                CExpr b = pop();
                CExpr a = pop();
                push(CExpr.of(op.name().toLowerCase() + "(" + a.text() + ", " + b.text() + ")", CType.INT, CExpr.ATOM,
                        CExpr.Shape.COMPARE, op.name().toLowerCase(), a, b));
            }
            case ARRAYLENGTH -> throw reject("array access (arraylength) is not allowed in a kernel");
            default -> throw reject("instruction " + op.name().toLowerCase() + " is not allowed in a kernel");
        }
    }

    private void call1(String function, CType type) {
        CExpr a = pop();
        push(CExpr.of(function + "(" + a.text() + ")", type, CExpr.ATOM, a));
    }

    private void call2(String function, CType type) {
        CExpr b = pop();
        CExpr a = pop();
        push(CExpr.of(function + "(" + a.text() + ", " + b.text() + ")", type, CExpr.ATOM, a, b));
    }

    private void binary(String operator, int prec, CType type) {
        CExpr b = pop();
        CExpr a = pop();
        push(CExpr.of(a.at(prec) + " " + operator + " " + b.at(prec + 1), type, prec, a, b));
    }

    private void doubleArithmetic(String operator, int prec) {
        CExpr b = pop();
        CExpr a = pop();
        push(CExpr.of(a.at(prec) + " " + operator + " " + b.at(prec + 1), CType.DOUBLE, prec,
                CExpr.Shape.DOUBLE_ARITH, operator, a, b));
    }

    /** The value a comparison instruction leaves when it is not consumed by a branch. */
    private static CExpr compareValue(CExpr compare) {
        return CExpr.of(compare.text(), CType.INT, CExpr.ATOM, compare.parts().toArray(CExpr[]::new));
    }

    private void convert(ConvertInstruction convert) {
        CExpr a = pop();
        switch (convert.opcode()) {
            case I2L -> push(cast("long long", CType.LONG, a));
            case I2F, L2F -> push(cast("float", CType.FLOAT, a));
            case I2D, L2D -> push(cast("double", CType.DOUBLE, a));
            case L2I -> push(cast("int", CType.INT, a));
            case F2D -> push(CExpr.of("(double)" + a.at(CExpr.UNARY), CType.DOUBLE, CExpr.UNARY,
                    CExpr.Shape.WIDENED_FLOAT, null, a));
            case D2F -> push(narrowToFloat(a));
            case F2I -> push(CExpr.of("f2i(" + a.text() + ")", CType.INT, CExpr.ATOM, a));
            case F2L -> push(CExpr.of("f2l(" + a.text() + ")", CType.LONG, CExpr.ATOM, a));
            case D2I -> push(CExpr.of("d2i(" + a.text() + ")", CType.INT, CExpr.ATOM, a));
            case D2L -> push(CExpr.of("d2l(" + a.text() + ")", CType.LONG, CExpr.ATOM, a));
            case I2B -> push(cast("signed char", CType.INT, a));
            case I2C -> push(cast("unsigned short", CType.INT, a));
            case I2S -> push(cast("short", CType.INT, a));
            default -> throw reject("conversion " + convert.opcode().name().toLowerCase() + " is not allowed");
        }
    }

    private static CExpr cast(String c, CType type, CExpr a) {
        return CExpr.of("(" + c + ")" + a.at(CExpr.UNARY), type, CExpr.UNARY, a);
    }

    /**
     * {@code (float) Math.exp(x)} with a float x becomes {@code expf(x)}, and
     * {@code (float) ((double) a * (double) b)} becomes {@code a * b}: exact for + - * / (a double
     * holds a float product or quotient well enough that rounding twice equals rounding once), and
     * within CUDA's float math accuracy for the functions. Anything else stays in double.
     */
    private CExpr narrowToFloat(CExpr value) {
        if (value.shape() == CExpr.Shape.DOUBLE_MATH && MathIntrinsics.HAS_FLOAT_TWIN.contains(value.op())
                && value.parts().stream().allMatch(MethodTranslator::isFloatInDouble)) {
            List<CExpr> args = value.parts().stream().map(MethodTranslator::asFloat).toList();
            return CExpr.of(MathIntrinsics.floatFunction(value.op()) + "(" + MathIntrinsics.joined(args) + ")",
                    CType.FLOAT, CExpr.ATOM,
                    args.toArray(CExpr[]::new));
        }
        if (value.shape() == CExpr.Shape.DOUBLE_ARITH && value.parts().stream().allMatch(MethodTranslator::isFloatInDouble)) {
            CExpr a = asFloat(value.parts().get(0));
            CExpr b = asFloat(value.parts().get(1));
            int prec = value.prec();
            return CExpr.of(a.at(prec) + " " + value.op() + " " + b.at(prec + 1), CType.FLOAT, prec, a, b);
        }
        return cast("float", CType.FLOAT, value);
    }

    private static boolean isFloatInDouble(CExpr value) {
        return value.shape() == CExpr.Shape.WIDENED_FLOAT
                || (value.shape() == CExpr.Shape.CONST && value.constant() instanceof Double d
                && (double) (float) (double) d == d);
    }

    private static CExpr asFloat(CExpr value) {
        if (value.shape() == CExpr.Shape.WIDENED_FLOAT) {
            return value.parts().getFirst();
        }
        return CExpr.constant((float) value.constant().doubleValue());
    }

    private void stackOperation(Opcode op) {
        switch (op) {
            case POP -> discard(pop());
            case POP2 -> {
                CExpr top = pop();
                discard(top);
                if (!top.type().isWide()) {
                    discard(pop());
                }
            }
            case DUP -> {
                CExpr v = simple(pop());
                push(v);
                push(v);
            }
            case DUP_X1 -> {
                CExpr v1 = simple(pop());
                CExpr v2 = pop();
                push(v1);
                push(v2);
                push(v1);
            }
            case DUP_X2 -> {
                CExpr v1 = simple(pop());
                CExpr v2 = pop();
                if (v2.type().isWide()) {
                    push(v1);
                    push(v2);
                    push(v1);
                } else {
                    CExpr v3 = pop();
                    push(v1);
                    push(v3);
                    push(v2);
                    push(v1);
                }
            }
            case DUP2 -> {
                CExpr v1 = simple(pop());
                if (v1.type().isWide()) {
                    push(v1);
                    push(v1);
                } else {
                    CExpr v2 = simple(pop());
                    push(v2);
                    push(v1);
                    push(v2);
                    push(v1);
                }
            }
            case DUP2_X1 -> {
                CExpr v1 = simple(pop());
                if (v1.type().isWide()) {
                    CExpr v2 = pop();
                    push(v1);
                    push(v2);
                    push(v1);
                } else {
                    CExpr v2 = simple(pop());
                    CExpr v3 = pop();
                    push(v2);
                    push(v1);
                    push(v3);
                    push(v2);
                    push(v1);
                }
            }
            case DUP2_X2 -> {
                CExpr v1 = simple(pop());
                if (v1.type().isWide()) {
                    CExpr v2 = pop();
                    if (v2.type().isWide()) {
                        push(v1);
                        push(v2);
                        push(v1);
                    } else {
                        CExpr v3 = pop();
                        push(v1);
                        push(v3);
                        push(v2);
                        push(v1);
                    }
                } else {
                    CExpr v2 = simple(pop());
                    CExpr v3 = pop();
                    if (v3.type().isWide()) {
                        push(v2);
                        push(v1);
                        push(v3);
                        push(v2);
                        push(v1);
                    } else {
                        CExpr v4 = pop();
                        push(v2);
                        push(v1);
                        push(v4);
                        push(v3);
                        push(v2);
                        push(v1);
                    }
                }
            }
            case SWAP -> {
                CExpr v1 = pop();
                CExpr v2 = pop();
                if (!v1.isSimple() && !v2.isSimple() && (v1.sideEffects() || v2.sideEffects())) {
                    v2 = temporary(v2);
                }
                push(v1);
                push(v2);
            }
            default -> throw reject("instruction " + op.name().toLowerCase() + " is not allowed in a kernel");
        }
    }

    /** A value that is duplicated must be evaluated once: into a temporary unless it is simple. */
    private CExpr simple(CExpr value) {
        return value.isSimple() ? value : temporary(value);
    }

    private void discard(CExpr value) {
        if (value.sideEffects()) {
            spillMemory();
            emit(value.text() + ";");
        }
    }

    // ---- branches ------------------------------------------------------------------------------

    private void branch(BranchInstruction branch) {
        Opcode op = branch.opcode();
        Label target = branch.target();
        String label = labelNames.get(target);
        branchSeen = true;
        if (op == Opcode.GOTO || op == Opcode.GOTO_W) {
            flush(null);
            recordEntry(target);
            emit("goto " + label + ";");
            stack.clear();
            reachable = false;
            return;
        }
        CExpr condition = switch (op) {
            case IFEQ, IFNE, IFLT, IFGE, IFGT, IFLE -> {
                CExpr top = popRaw();
                String relation = relation(op);
                if (top.shape() == CExpr.Shape.COMPARE) {
                    yield compareCondition(top, relation);
                }
                if (top.shape() == CExpr.Shape.BOOL && (op == Opcode.IFEQ || op == Opcode.IFNE)) {
                    yield op == Opcode.IFNE ? top : CExpr.of("!" + top.at(CExpr.UNARY), CType.INT, CExpr.UNARY, top);
                }
                yield relational(top, relation, CExpr.constant(0));
            }
            case IF_ICMPEQ, IF_ICMPNE, IF_ICMPLT, IF_ICMPGE, IF_ICMPGT, IF_ICMPLE -> {
                CExpr b = pop();
                CExpr a = pop();
                yield relational(a, relation(op), b);
            }
            case IF_ACMPEQ, IF_ACMPNE -> throw reject("comparing buffer references (== / !=) is not allowed in a kernel");
            case IFNULL, IFNONNULL -> throw reject("null checks are not allowed in a kernel (buffers are never null)");
            default -> throw reject("branch " + op.name().toLowerCase() + " is not allowed in a kernel");
        };
        condition = flush(condition);
        recordEntry(target);
        emit("if (" + condition.text() + ") goto " + label + ";");
    }

    private static String relation(Opcode op) {
        return switch (op) {
            case IFEQ, IF_ICMPEQ -> "==";
            case IFNE, IF_ICMPNE -> "!=";
            case IFLT, IF_ICMPLT -> "<";
            case IFGE, IF_ICMPGE -> ">=";
            case IFGT, IF_ICMPGT -> ">";
            case IFLE, IF_ICMPLE -> "<=";
            default -> throw new IllegalArgumentException(op.name());
        };
    }

    private static CExpr relational(CExpr a, String relation, CExpr b) {
        int prec = relation.equals("==") || relation.equals("!=") ? CExpr.EQ : CExpr.REL;
        return CExpr.of(a.at(prec) + " " + relation + " " + b.at(prec + 1), CType.INT, prec, CExpr.Shape.BOOL, null, a, b);
    }

    /**
     * {@code fcmpg; ifge} and friends: the comparison of a and b that gives Java's answer when
     * one is NaN (fcmpl pushes -1 for NaN, fcmpg 1; C's relational operators are false on NaN,
     * except !=). Where they disagree, the negated complementary relation is used.
     */
    private static CExpr compareCondition(CExpr compare, String relation) {
        CExpr a = compare.parts().get(0);
        CExpr b = compare.parts().get(1);
        String kind = compare.op();
        if (kind.equals("lcmp")) {
            return relational(a, relation, b);
        }
        int nanResult = kind.endsWith("l") ? -1 : 1;
        boolean javaOnNaN = switch (relation) {
            case "==" -> nanResult == 0;
            case "!=" -> nanResult != 0;
            case "<" -> nanResult < 0;
            case ">=" -> nanResult >= 0;
            case ">" -> nanResult > 0;
            default -> nanResult <= 0;
        };
        boolean cOnNaN = relation.equals("!=");
        if (javaOnNaN == cOnNaN) {
            return relational(a, relation, b);
        }
        String complement = switch (relation) {
            case "<" -> ">=";
            case ">=" -> "<";
            case ">" -> "<=";
            case "<=" -> ">";
            case "==" -> "!=";
            default -> "==";
        };
        CExpr inner = relational(a, complement, b);
        return CExpr.of("!(" + inner.text() + ")", CType.INT, CExpr.UNARY, CExpr.Shape.BOOL, null, inner);
    }

    private void switchTo(Label defaultTarget, List<SwitchCase> cases) {
        branchSeen = true;
        CExpr key = flush(pop());
        StringBuilder text = new StringBuilder("switch (" + key.text() + ") {");
        for (SwitchCase c : cases) {
            recordEntry(c.target());
            text.append(" case ").append(CExpr.literal(c.caseValue())).append(": goto ")
                    .append(labelNames.get(c.target())).append(';');
        }
        recordEntry(defaultTarget);
        text.append(" default: goto ").append(labelNames.get(defaultTarget)).append("; }");
        emit(text.toString());
        stack.clear();
        reachable = false;
    }

    // ---- calls and fields ----------------------------------------------------------------------

    private void invoke(InvokeInstruction invoke) {
        String owner = invoke.owner().asInternalName();
        String name = invoke.name().stringValue();
        MethodTypeDesc type = invoke.typeSymbol();
        String desc = type.descriptorString();
        String ownerName = invoke.owner().asSymbol().displayName();
        switch (invoke.opcode()) {
            case INVOKEVIRTUAL -> {
                if (owner.equals("nvlm/kernels/translator/KernelContext")) {
                    contextCall(name, desc);
                } else if (owner.startsWith("nvlm/kernels/translator/") && owner.endsWith("Buffer")) {
                    bufferCall(ownerName, name, desc);
                } else {
                    throw reject("virtual call " + ownerName + "." + name + "() is not allowed in a kernel; "
                            + "only static methods, Math functions and the KernelContext and buffer intrinsics are");
                }
            }
            case INVOKESTATIC -> staticCall(owner, ownerName, name, type);
            case INVOKEINTERFACE -> throw reject("interface call " + ownerName + "." + name
                    + "() is not allowed in a kernel");
            case INVOKESPECIAL -> throw reject(name.equals("<init>")
                    ? "constructor call (new " + ownerName + ") is not allowed in a kernel"
                    : "call to instance method " + ownerName + "." + name + "() is not allowed in a kernel; "
                    + "only static methods are");
            default -> throw reject("call " + invoke.opcode().name().toLowerCase() + " is not allowed in a kernel");
        }
    }

    private void contextCall(String name, String desc) {
        if (name.equals("sharedF32") || name.equals("sharedI32")) {
            sharedDeclaration(name);
            return;
        }
        if (name.equals("barrier")) {
            popRaw();
            usesBarrier = true;
            spillMemory();
            emit("__syncthreads();");
            return;
        }
        String text = switch (name) {
            case "gix", "giy", "giz" -> "(int)(blockIdx." + axis(name) + " * blockDim." + axis(name) + " + threadIdx." + axis(name) + ")";
            case "gsx", "gsy", "gsz" -> "(int)(gridDim." + axis(name) + " * blockDim." + axis(name) + ")";
            case "lix", "liy", "liz" -> "(int)threadIdx." + axis(name);
            case "lsx", "lsy", "lsz" -> "(int)blockDim." + axis(name);
            case "bix", "biy", "biz" -> "(int)blockIdx." + axis(name);
            case "bsx", "bsy", "bsz" -> "(int)gridDim." + axis(name);
            default -> throw reject("virtual call KernelContext." + name + "() is not allowed in a kernel; it is "
                    + "not one of the intrinsics (gix..bsz, barrier, sharedF32, sharedI32)");
        };
        popRaw();
        push(CExpr.of(text, CType.INT, CExpr.UNARY));
    }

    private static String axis(String intrinsic) {
        return intrinsic.substring(2);
    }

    private void sharedDeclaration(String name) {
        CExpr size = pop();
        popRaw();
        if (!isKernel) {
            throw reject("kc." + name + " may only be called in the @Kernel method itself; pass shared memory "
                    + "to helpers as a buffer parameter");
        }
        if (branchSeen) {
            throw reject("kc." + name + " must be called before the kernel's first branch or loop (shared memory is "
                    + "declared once per block, by every thread alike)");
        }
        if (size.shape() != CExpr.Shape.CONST || !(size.constant() instanceof Integer length) || length <= 0) {
            throw reject("kc." + name + " needs a positive compile-time constant size (a literal or a static final "
                    + "int), got " + size.text());
        }
        CType type = name.equals("sharedF32") ? CType.F32_PTR : CType.I32_PTR;
        String base = "shared" + sharedDeclarations.size();
        if (index + 1 < elements.size() && elements.get(index + 1) instanceof StoreInstruction store) {
            for (LocalVariable variable : localVariables) {
                if (variable.slot() == store.slot()) {
                    base = variable.name().stringValue() + "_shared";
                    break;
                }
            }
        }
        String element = type == CType.F32_PTR ? "float" : "int";
        sharedDeclarations.add("__shared__ " + element + " " + base + "[" + length + "];");
        usedNames.add(base);
        sharedBytes += 4 * length;
        push(CExpr.of(base, type, CExpr.ATOM));
    }

    private void bufferCall(String ownerName, String name, String desc) {
        String simpleOwner = ownerName.substring(ownerName.lastIndexOf('.') + 1);
        switch (name + desc) {
            case "get(J)F", "get(J)I", "get(J)J", "get(J)B" -> {
                CExpr index = pop();
                CExpr buffer = pop();
                String element = buffer.at(CExpr.ATOM) + "[" + index.text() + "]";
                String text = switch (buffer.type()) {
                    case BF16_PTR -> "bf16_to_f32(" + element + ")";
                    case F16_PTR -> "f16_to_f32(" + element + ")";
                    default -> element;
                };
                CType type = switch (desc.charAt(desc.length() - 1)) {
                    case 'F' -> CType.FLOAT;
                    case 'J' -> CType.LONG;
                    default -> CType.INT;
                };
                push(CExpr.of(text, type, CExpr.ATOM, buffer, index).withMemoryRead());
            }
            case "set(JF)V", "set(JI)V", "set(JJ)V", "set(JB)V" -> {
                CExpr value = pop();
                CExpr index = pop();
                CExpr buffer = pop();
                spillMemory();
                String stored = switch (buffer.type()) {
                    case BF16_PTR -> "f32_to_bf16(" + value.text() + ")";
                    case F16_PTR -> "f32_to_f16(" + value.text() + ")";
                    case I8_PTR -> "(signed char)" + value.at(CExpr.UNARY);
                    default -> value.text();
                };
                emit(buffer.at(CExpr.ATOM) + "[" + index.text() + "] = " + stored + ";");
            }
            case "atomicAdd(JF)V" -> {
                CExpr value = pop();
                CExpr index = pop();
                CExpr buffer = pop();
                spillMemory();
                usesAtomics = true;
                emit("atomicAdd(" + buffer.at(CExpr.ADD) + " + " + index.at(CExpr.MUL) + ", " + value.text() + ");");
            }
            default -> throw reject(simpleOwner + "." + name + "() is host-side only; inside a kernel a buffer "
                    + "offers get, set" + (simpleOwner.equals("F32Buffer") ? " and atomicAdd" : "")
                    + " (pass sizes as int or long parameters)");
        }
    }

    private void staticCall(String owner, String ownerName, String name, MethodTypeDesc type) {
        String desc = type.descriptorString();
        int count = type.parameterCount();
        List<CExpr> args = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            args.addFirst(pop());
        }
        if (name.equals("isNaN") || name.equals("numberOfTrailingZeros")) {
            args.replaceAll(this::simple);
        }
        CExpr intrinsic = MathIntrinsics.call(owner, name, desc, args);
        if (intrinsic != null) {
            push(intrinsic);
            return;
        }
        if (owner.startsWith("java/") || owner.startsWith("javax/") || owner.startsWith("jdk/")
                || owner.startsWith("sun/") || owner.startsWith("com/sun/")) {
            throw reject("call to " + ownerName + "." + name + type.displayDescriptor()
                    + ", which is not a kernel intrinsic (allowed: Math/StrictMath functions, a few Float, Double, "
                    + "Integer and Long bit methods, and static methods of your own)");
        }
        Method callee = resolve(owner, ownerName, name, type);
        callees.putIfAbsent(callee, location());
        String function = session.functionName(callee);
        List<CExpr> cArgs = args.stream().filter(a -> a.type() != CType.CONTEXT).toList();
        CType result = CType.of(type.returnType());
        spillMemory();
        String text = function + "(" + MathIntrinsics.joined(cArgs) + ")";
        if (result == CType.VOID) {
            emit(text + ";");
        } else {
            push(CExpr.of(text, result, CExpr.ATOM, cArgs.toArray(CExpr[]::new)).withSideEffects());
        }
    }

    private Method resolve(String owner, String ownerName, String name, MethodTypeDesc type) {
        Class<?> ownerClass;
        try {
            ownerClass = Class.forName(owner.replace('/', '.'), false, method.getDeclaringClass().getClassLoader());
        } catch (ClassNotFoundException e) {
            throw reject("call to " + ownerName + "." + name + ": class not found");
        }
        for (Method candidate : ownerClass.getDeclaredMethods()) {
            if (candidate.getName().equals(name) && CudaTranslator.descriptor(candidate).equals(type.descriptorString())) {
                if (!Modifier.isStatic(candidate.getModifiers())) {
                    throw reject("call to instance method " + ownerName + "." + name + " is not allowed in a kernel");
                }
                return candidate;
            }
        }
        throw reject("call to " + ownerName + "." + name + type.displayDescriptor()
                + ": method not found (inherited static methods are not supported)");
    }

    private void field(FieldInstruction field) {
        String ownerName = field.owner().asSymbol().displayName();
        String name = field.name().stringValue();
        switch (field.opcode()) {
            case PUTFIELD, PUTSTATIC -> throw reject("field write (" + ownerName + "." + name
                    + ") is not allowed in a kernel; write results to a buffer");
            case GETFIELD -> throw reject("object field read (" + ownerName + "." + name
                    + ") is not allowed in a kernel; there are no objects besides buffers");
            default -> {
            }
        }
        Field reflected;
        try {
            Class<?> owner = Class.forName(field.owner().asInternalName().replace('/', '.'), true,
                    method.getDeclaringClass().getClassLoader());
            reflected = owner.getDeclaredField(name);
        } catch (ReflectiveOperationException | LinkageError e) {
            throw reject("read of static field " + ownerName + "." + name + " failed: " + e);
        }
        int modifiers = reflected.getModifiers();
        if (!Modifier.isFinal(modifiers) || !reflected.getType().isPrimitive()
                || reflected.accessFlags().contains(AccessFlag.SYNTHETIC)) {
            throw reject("read of static field " + ownerName + "." + name + " is not allowed in a kernel; only "
                    + "static final primitive constants are (their value is inlined)");
        }
        try {
            reflected.setAccessible(true);
            Object value = reflected.get(null);
            push(switch (value) {
                case Boolean b -> CExpr.constant(b ? 1 : 0);
                case Character c -> CExpr.constant((int) c);
                case Byte b -> CExpr.constant((int) b);
                case Short s -> CExpr.constant((int) s);
                default -> CExpr.constant((Number) value);
            });
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw reject("read of static field " + ownerName + "." + name + " failed: " + e);
        }
    }
}
