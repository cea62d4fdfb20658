// Usages targets for Java with javac as the oracle: for every class,
// interface, enum, record, method and field declared in a corpus's .java
// files, the places javac's attribution links to it (names, member selects,
// method calls, `new`, the members a static import names). Prints JSON lines in the format of
// tests/eval/ts_oracle.mjs, for tests/eval/oracle_usages.py:
//   {"symbol", "kind", "def": {"path", "line", "column"}, "refs": [{"path", "line", "column"}]}
// Paths relative to the corpus; lines and columns 1-based.
//
//   java tests/eval/JavaOracle.java CORPUS_DIR > targets.jsonl
//
// A JDK's own javac (17 or later), nothing else: missing dependencies of
// the corpus leave some names unattributed (those are not counted).
// module-info.java files are skipped.

import com.sun.source.tree.*;
import com.sun.source.util.*;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.stream.*;
import javax.lang.model.element.*;
import javax.tools.*;

public class JavaOracle {
    record Pos(String path, long line, long column) {
        String json() {
            return "{\"path\": \"" + path + "\", \"line\": " + line + ", \"column\": " + column + "}";
        }
    }

    public static void main(String[] args) throws IOException {
        Path root = Paths.get(args[0]).toAbsolutePath().normalize();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(root)) {
            files = walk.filter(p -> p.toString().endsWith(".java") && !p.endsWith("module-info.java"))
                    .sorted().collect(Collectors.toList());
        }
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        StandardJavaFileManager fm = compiler.getStandardFileManager(null, null, StandardCharsets.UTF_8);
        JavacTask task = (JavacTask) compiler.getTask(null, fm, d -> {}, List.of("-proc:none", "-Xlint:none"),
                null, fm.getJavaFileObjectsFromPaths(files));
        Iterable<? extends CompilationUnitTree> units = task.parse();
        task.analyze();
        Trees trees = Trees.instance(task);
        SourcePositions positions = trees.getSourcePositions();

        Map<Element, Pos> decls = new LinkedHashMap<>();
        Map<Element, String> kinds = new HashMap<>();
        Map<Element, Set<Pos>> refs = new HashMap<>();

        for (CompilationUnitTree unit : units) {
            String path = root.relativize(Paths.get(unit.getSourceFile().toUri())).toString();
            String text = unit.getSourceFile().getCharContent(true).toString();
            LineMap lines = unit.getLineMap();
            new TreePathScanner<Void, Void>() {
                Pos at(long offset) {
                    return new Pos(path, lines.getLineNumber(offset), lines.getColumnNumber(offset));
                }

                /** The offset of `name` as a whole word at or after `from`. */
                long nameAt(long from, String name) {
                    int i = (int) Math.max(from, 0);
                    while ((i = text.indexOf(name, i)) >= 0) {
                        boolean before = i == 0 || !Character.isJavaIdentifierPart(text.charAt(i - 1));
                        int end = i + name.length();
                        boolean after = end >= text.length() || !Character.isJavaIdentifierPart(text.charAt(end));
                        if (before && after) {
                            return i;
                        }
                        i = end;
                    }
                    return -1;
                }

                void declare(Tree tree, ModifiersTree modifiers, Tree after, String name, String kind) {
                    Element e = trees.getElement(getCurrentPath());
                    if (e == null || name.isEmpty() || name.equals("<init>")) {
                        return;
                    }
                    long from = positions.getEndPosition(unit, after != null ? after : modifiers);
                    if (from < 0) {
                        from = positions.getStartPosition(unit, tree);
                    }
                    long offset = nameAt(from, name);
                    if (offset >= 0) {
                        decls.put(e, at(offset));
                        kinds.put(e, kind);
                    }
                }

                @Override
                public Void visitClass(ClassTree tree, Void v) {
                    String kind = switch (tree.getKind()) {
                        case INTERFACE, ANNOTATION_TYPE -> "interface";
                        case ENUM -> "enum";
                        default -> "class";
                    };
                    declare(tree, tree.getModifiers(), null, tree.getSimpleName().toString(), kind);
                    return super.visitClass(tree, v);
                }

                @Override
                public Void visitMethod(MethodTree tree, Void v) {
                    declare(tree, tree.getModifiers(), tree.getReturnType(), tree.getName().toString(), "method");
                    return super.visitMethod(tree, v);
                }

                @Override
                public Void visitVariable(VariableTree tree, Void v) {
                    Element e = trees.getElement(getCurrentPath());
                    if (e != null && (e.getKind() == ElementKind.FIELD || e.getKind() == ElementKind.ENUM_CONSTANT)) {
                        declare(tree, tree.getModifiers(), tree.getType(), tree.getName().toString(), "field");
                    }
                    return super.visitVariable(tree, v);
                }

                void use(Tree tree, String name, long offset) {
                    Element e = trees.getElement(getCurrentPath());
                    // A tree the compiler made up (an anonymous class's
                    // `extends`, an inner class's outer `this`) is placed
                    // where its name is not spelled: not a use in the text.
                    if (e == null || offset < 0 || !text.startsWith(name, (int) offset)) {
                        return;
                    }
                    // `new Foo()` is attributed to Foo's constructor: count the class.
                    if (e.getKind() == ElementKind.CONSTRUCTOR) {
                        e = e.getEnclosingElement();
                        // `super(..)` and `this(..)` call a constructor
                        // without naming its class.
                        if (!name.equals(e.getSimpleName().toString())) {
                            return;
                        }
                    }
                    add(e, offset);
                }

                void add(Element e, long offset) {
                    refs.computeIfAbsent(e, k -> new TreeSet<>(Comparator.comparing(Pos::path)
                            .thenComparingLong(Pos::line).thenComparingLong(Pos::column))).add(at(offset));
                }

                /** javac attributes no member of a static import (it names
                 *  every static member of that name): those members. */
                @Override
                public Void visitImport(ImportTree tree, Void v) {
                    if (tree.isStatic() && tree.getQualifiedIdentifier() instanceof MemberSelectTree select) {
                        String name = select.getIdentifier().toString();
                        TypeElement type = task.getElements().getTypeElement(select.getExpression().toString());
                        long end = positions.getEndPosition(unit, select);
                        if (type != null && !name.equals("*") && end >= 0) {
                            for (Element member : type.getEnclosedElements()) {
                                if (member.getSimpleName().contentEquals(name)
                                        && member.getModifiers().contains(Modifier.STATIC)) {
                                    add(member, end - name.length());
                                }
                            }
                        }
                    }
                    return super.visitImport(tree, v);
                }

                @Override
                public Void visitIdentifier(IdentifierTree tree, Void v) {
                    use(tree, tree.getName().toString(), positions.getStartPosition(unit, tree));
                    return super.visitIdentifier(tree, v);
                }

                /** A use whose name ends the tree (`a.b`, `A::b`). */
                void useAtEnd(Tree tree, String name) {
                    long end = positions.getEndPosition(unit, tree);
                    use(tree, name, end < 0 ? -1 : end - name.length());
                }

                @Override
                public Void visitMemberSelect(MemberSelectTree tree, Void v) {
                    useAtEnd(tree, tree.getIdentifier().toString());
                    return super.visitMemberSelect(tree, v);
                }

                @Override
                public Void visitMemberReference(MemberReferenceTree tree, Void v) {
                    useAtEnd(tree, tree.getName().toString());
                    return super.visitMemberReference(tree, v);
                }
            }.scan(unit, null);
        }

        StringBuilder out = new StringBuilder();
        for (Map.Entry<Element, Pos> d : decls.entrySet()) {
            Element e = d.getKey();
            Set<Pos> found = refs.getOrDefault(e, Set.of());
            String list = found.stream().filter(p -> !p.equals(d.getValue())).map(Pos::json)
                    .collect(Collectors.joining(", "));
            out.append("{\"symbol\": \"").append(e.getSimpleName()).append("\", \"kind\": \"")
                    .append(kinds.get(e)).append("\", \"def\": ").append(d.getValue().json())
                    .append(", \"refs\": [").append(list).append("]}\n");
        }
        System.out.print(out);
    }
}
