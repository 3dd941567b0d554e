package nvlm.tests;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * The architecture, checked over the compiled main classes of every module (STYLE.md, "In this
 * project"): modules depend one way, kernels <- tensor <- cuda-ffm <- comm, nvlm-model <- nvlm-trainer
 * <- bench (tests on top, test code only); no package depends on itself through others; the
 * model never sees CUDA and reaches the kernels only through tensor; kernels never see tensors.
 * The floors inside cuda-ffm (bindings, runtime, backend) are checked by cuda-ffm's own tests.
 *
 * <p>It reads each module's {@code target/classes}, so it runs after the reactor has compiled
 * them; tests/pom.xml names bench as a dependency only to build it first.
 */
class ArchitectureTest {
    /** A module of the reactor, the package its main classes live under, and the modules it may use. */
    private record Module(String name, String packageRoot, List<String> uses) {
    }

    /** The one-way order of the root pom, spelled out: a module may use only those listed with it. */
    private static final List<Module> MODULES = List.of(
            new Module("kernels", "nvlm.kernels", List.of()),
            new Module("tensor", "nvlm.tensor", List.of("kernels")),
            new Module("cuda-ffm", "nvlm.cuda", List.of("kernels", "tensor")),
            new Module("comm", "nvlm.comm", List.of("kernels", "tensor", "cuda-ffm")),
            new Module("nvlm-model", "nvlm.model", List.of("kernels", "tensor")),
            new Module("nvlm-api", "nvlm.api", List.of("kernels", "tensor", "nvlm-model")),
            new Module("nvlm-trainer", "nvlm.trainer", List.of("kernels", "tensor", "cuda-ffm", "comm", "nvlm-model", "nvlm-api")),
            new Module("bench", "nvlm.bench", List.of("kernels", "tensor", "cuda-ffm", "comm", "nvlm-model", "nvlm-api", "nvlm-trainer")));
    /** The cross-module test module: no main code; it may use every module (bench only to order the build). */
    private static final Module TESTS = new Module("tests", "nvlm.tests",
            List.of("kernels", "tensor", "cuda-ffm", "comm", "nvlm-model", "nvlm-api", "nvlm-trainer", "bench"));

    private static Path root;
    private static JavaClasses classes;

    @BeforeAll
    static void importMainClasses() {
        root = Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent();
        List<Path> dirs = new ArrayList<>();
        for (Module m : MODULES) {
            Path dir = root.resolve(m.name()).resolve("target/classes");
            assertTrue(Files.isDirectory(dir), m.name() + ": no compiled classes at " + dir
                    + " (the architecture test reads every module's target/classes: build the whole reactor)");
            dirs.add(dir);
        }
        classes = new ClassFileImporter().importPaths(dirs);
    }

    @Test
    void theReactorHasExactlyTheModulesThisTestKnows() throws Exception {
        List<String> known = new ArrayList<>(MODULES.stream().map(Module::name).toList());
        known.add(TESTS.name());
        assertEquals(new TreeSet<>(known), new TreeSet<>(childTexts(pom(root), "modules", "module")),
                "root pom.xml <modules> and ArchitectureTest.MODULES must list the same modules");
    }

    /**
     * The Maven artifactId of a module folder: {@code nvlm-} before the folder's name unless it
     * has it already, so that no artifact of the project is named like another project's
     * ({@code tensor}, {@code kernels}).
     */
    static String artifactId(String module) {
        return module.startsWith("nvlm-") ? module : "nvlm-" + module;
    }

    @Test
    void everyArtifactIdStartsWithNvlm() throws Exception {
        List<Module> all = new ArrayList<>(MODULES);
        all.add(TESTS);
        for (Module m : all) {
            Element pom = pom(root.resolve(m.name()));
            String own = children(pom, "artifactId").get(0).getTextContent().trim();
            assertEquals(artifactId(m.name()), own, m.name() + "/pom.xml: artifactId");
        }
    }

    @Test
    void pomDependenciesPointDown() throws Exception {
        List<Module> all = new ArrayList<>(MODULES);
        all.add(TESTS);
        Map<String, List<String>> wrong = new LinkedHashMap<>();
        for (Module m : all) {
            List<String> bad = new ArrayList<>();
            for (String used : childTexts(pom(root.resolve(m.name())), "dependencies", "dependency", "dev.nvlm")) {
                if (m.uses().stream().map(ArchitectureTest::artifactId).noneMatch(used::equals)) {
                    bad.add(used);
                }
            }
            if (!bad.isEmpty()) {
                wrong.put(m.name(), bad);
            }
        }
        assertTrue(wrong.isEmpty(), "modules depend against the one-way order (module -> dependencies it may not have): "
                + wrong);
    }

    @Test
    void everyModuleKeepsItsClassesUnderItsOwnPackage() {
        List<String> misplaced = new ArrayList<>();
        for (JavaClass c : classes) {
            String uri = c.getSource().map(s -> s.getUri().toString()).orElse("");
            for (Module m : MODULES) {
                boolean inModule = uri.contains("/" + m.name() + "/target/classes/");
                boolean inPackage = c.getPackageName().equals(m.packageRoot())
                        || c.getPackageName().startsWith(m.packageRoot() + ".");
                if (inModule && !inPackage) {
                    misplaced.add(c.getName() + " (module " + m.name() + ", whose packages are " + m.packageRoot() + "..)");
                }
            }
        }
        assertTrue(misplaced.isEmpty(), "classes outside their module's package: " + misplaced);
    }

    @Test
    void modulesUseOnlyTheModulesBelowThem() {
        LayeredArchitecture layers = layeredArchitecture().consideringOnlyDependenciesInLayers();
        for (Module m : MODULES) {
            layers = layers.layer(m.name()).definedBy(m.packageRoot() + "..");
        }
        for (Module m : MODULES) {
            String[] users = MODULES.stream().filter(u -> u.uses().contains(m.name())).map(Module::name)
                    .toArray(String[]::new);
            layers = users.length == 0 ? layers.whereLayer(m.name()).mayNotBeAccessedByAnyLayer()
                    : layers.whereLayer(m.name()).mayOnlyBeAccessedByLayers(users);
        }
        layers.check(classes);
    }

    @Test
    void noPackageCycles() {
        slices().matching("nvlm.(**)").namingSlices("nvlm.$1").should().beFreeOfCycles().check(classes);
    }

    @Test
    void theModelNeverSeesCuda() {
        noClasses().that().resideInAPackage("nvlm.model..")
                .should().dependOnClassesThat().resideInAPackage("nvlm.cuda..")
                .because("the CUDA backend is found by ServiceLoader; the model talks to tensors only")
                .check(classes);
    }

    @Test
    void theModelReachesTheKernelsOnlyThroughTensor() {
        noClasses().that().resideInAPackage("nvlm.model..")
                .should().dependOnClassesThat(resideInAPackage("nvlm.kernels.*.."))
                .because("CPU and GPU kernels sit under the tensor floor; the model may use only what the kernels"
                        + " module shares at its root (DType, Parallel)")
                .check(classes);
    }

    @Test
    void onlyTheCommRuntimeCallsItsBindings() {
        noClasses().that().resideOutsideOfPackages("nvlm.comm", "nvlm.comm.bindings")
                .should().dependOnClassesThat().resideInAPackage("nvlm.comm.bindings")
                .because("the MPI and NCCL bindings are generated code; only the comm runtime (nvlm.comm) calls them")
                .check(classes);
    }

    @Test
    void kernelsNeverSeeTensors() {
        noClasses().that().resideInAPackage("nvlm.kernels..")
                .should().dependOnClassesThat().resideInAPackage("nvlm.tensor..")
                .because("kernels work on memory segments and buffers; tensors are built on them, not the other way")
                .check(classes);
    }

    private static Element pom(Path dir) throws Exception {
        Path file = dir.resolve("pom.xml");
        if (!Files.isRegularFile(file)) {
            throw new IOException("no pom.xml at " + file);
        }
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile()).getDocumentElement();
    }

    /** Texts of project/{list}/{item}: a module name, or (groupId given) the artifactIds of that group. */
    private static List<String> childTexts(Element project, String list, String item, String... groupId) {
        List<String> out = new ArrayList<>();
        for (Element l : children(project, list)) {
            for (Element e : children(l, item)) {
                if (groupId.length == 0) {
                    out.add(e.getTextContent().trim());
                } else if (Set.of(groupId).contains(text(e, "groupId"))) {
                    out.add(text(e, "artifactId"));
                }
            }
        }
        return out;
    }

    private static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                out.add(e);
            }
        }
        return out;
    }

    private static String text(Element parent, String name) {
        List<Element> c = children(parent, name);
        return c.isEmpty() ? "" : c.getFirst().getTextContent().trim();
    }
}
