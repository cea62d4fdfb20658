// Usages targets for C# with the compiler as the oracle: Mono's C# compiler
// (mcs) builds the corpus with debugging information, and every call of a
// method and every use of a property accessor in the compiled code is a
// reference, placed by the line table at the statement it belongs to and
// then at the member's name spelled in that statement. Prints JSON lines in
// the format of tests/eval/ts_oracle.mjs, for tests/eval/oracle_usages.py:
//   {"symbol", "kind", "def": {"path", "line", "column"}, "refs": [{"path", "line", "column"}]}
// Paths relative to the corpus; lines and columns 1-based.
//
//   tests/eval/cs_oracle.sh CORPUS_DIR > targets.jsonl
//
// Targets are the methods and properties the corpus declares that are not
// virtual (no virtual, abstract, override or interface member, no interface
// implementation): the compiler refers to an overriding method by the
// declaration it overrides, so references to a member of an override
// family say which declaration the compiler chose, not which one a reader
// means. Constructors, fields and types leave no call of their own in
// every place they are named (constants are inlined, a type in a
// declaration compiles to nothing) and are not targets. A name the
// statement does not spell (a `foreach`'s GetEnumerator, an operator, an
// implicit conversion) is not a reference.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Mono.Cecil;
using Mono.Cecil.Cil;
using Mono.CompilerServices.SymbolWriter;

class CsOracle
{
    class Source
    {
        public string Rel;
        public string[] Lines; // comments and string literals blanked
    }

    struct Pos : IComparable<Pos>
    {
        public int Row, Col; // 1-based
        public Pos(int row, int col) { Row = row; Col = col; }
        public int CompareTo(Pos o) { return Row != o.Row ? Row.CompareTo(o.Row) : Col.CompareTo(o.Col); }
    }

    class Target
    {
        public string Symbol, Kind, Name;
        public Source File;
        public Pos Def;
        public SortedSet<string> Refs = new SortedSet<string>(StringComparer.Ordinal);
    }

    static readonly Dictionary<string, Source> sources = new Dictionary<string, Source>();
    static HashSet<string> defines;
    static string root;

    static int Main(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: mono CsOracle.exe CORPUS_DIR ASSEMBLY [SYMBOL...] (ASSEMBLY built by mcs -debug from CORPUS_DIR's files with -define:SYMBOL...)");
            return 2;
        }
        defines = new HashSet<string>(args.Skip(2));
        root = Path.GetFullPath(args[0]).TrimEnd('/') + "/";
        var module = ModuleDefinition.ReadModule(args[1]);
        var symbols = MonoSymbolFile.ReadSymbolFile(args[1] + ".mdb");

        // What each method's line table says: its source and its statements.
        var tables = new Dictionary<int, KeyValuePair<Source, LineNumberEntry[]>>();
        for (int i = 1; i <= symbols.MethodCount; i++)
        {
            var entry = symbols.GetMethod(i);
            var source = Load(entry.CompileUnit.SourceFile.FileName);
            if (source == null) continue;
            var lines = entry.GetLineNumberTable().LineNumbers.Where(e => !e.IsHidden && e.Row > 0).ToArray();
            tables[entry.Token] = new KeyValuePair<Source, LineNumberEntry[]>(source, lines);
        }

        var targets = new Dictionary<IMemberDefinition, Target>();
        foreach (var type in module.GetTypes())
        {
            if (Generated(type.Name) || type.IsInterface) continue;
            foreach (var method in type.Methods)
            {
                if (method.IsConstructor || method.IsVirtual || Generated(method.Name) || method.IsSpecialName) continue;
                KeyValuePair<Source, LineNumberEntry[]> table;
                if (!tables.TryGetValue(method.MetadataToken.ToInt32(), out table) || table.Value.Length == 0) continue;
                var def = Declaration(table.Key, table.Value[0].Row, method.Name, @"\s*(<[^()]*>)?\s*\(");
                if (def == null) continue;
                targets[method] = new Target { Symbol = Owner(type) + "." + method.Name, Kind = "method", Name = method.Name, File = table.Key, Def = def.Value };
            }
            foreach (var property in type.Properties)
            {
                var accessor = property.GetMethod ?? property.SetMethod;
                if (accessor == null || accessor.IsVirtual || (property.SetMethod != null && property.SetMethod.IsVirtual)) continue;
                if (property.HasParameters) continue; // an indexer is named `this`
                KeyValuePair<Source, LineNumberEntry[]> table;
                if (!tables.TryGetValue(accessor.MetadataToken.ToInt32(), out table) || table.Value.Length == 0) continue;
                var def = Declaration(table.Key, table.Value[0].Row, property.Name, @"\s*($|\{|=>)");
                if (def == null) continue;
                targets[property] = new Target { Symbol = Owner(type) + "." + property.Name, Kind = "property", Name = property.Name, File = table.Key, Def = def.Value };
            }
        }

        // Every instruction that calls a target, placed at its statement.
        foreach (var type in module.GetTypes())
        {
            foreach (var method in type.Methods)
            {
                if (!method.HasBody) continue;
                KeyValuePair<Source, LineNumberEntry[]> table;
                if (!tables.TryGetValue(method.MetadataToken.ToInt32(), out table) || table.Value.Length == 0) continue;
                var statements = table.Value.Select(e => new Pos(e.Row, e.Column)).Distinct().OrderBy(p => p).ToList();
                foreach (var instruction in method.Body.Instructions)
                {
                    var called = instruction.Operand as MethodReference;
                    if (called == null) continue;
                    MethodDefinition resolved;
                    try { resolved = called.Resolve(); } catch (AssemblyResolutionException) { continue; }
                    if (resolved == null || resolved.Module != module) continue;
                    IMemberDefinition member = resolved;
                    if (resolved.IsGetter || resolved.IsSetter)
                        member = resolved.DeclaringType.Properties.FirstOrDefault(p => p.GetMethod == resolved || p.SetMethod == resolved);
                    Target target;
                    if (member == null || !targets.TryGetValue(member, out target)) continue;
                    var at = Statement(table.Value, instruction.Offset);
                    if (at == null) continue;
                    var start = new Pos(at.Row, at.Column);
                    var next = statements.Where(p => p.CompareTo(start) > 0).Cast<Pos?>().FirstOrDefault();
                    foreach (var place in Spelled(table.Key, start, next, target.Name))
                        if (!(table.Key == target.File && place.CompareTo(target.Def) == 0))
                            target.Refs.Add(Json(table.Key, place));
                }
            }
        }

        var output = new StringBuilder();
        foreach (var t in targets.Values.OrderBy(t => t.File.Rel, StringComparer.Ordinal).ThenBy(t => t.Def))
        {
            output.Append("{\"symbol\": \"").Append(t.Symbol).Append("\", \"kind\": \"").Append(t.Kind)
                .Append("\", \"def\": ").Append(Json(t.File, t.Def)).Append(", \"refs\": [")
                .Append(string.Join(", ", t.Refs)).Append("]}\n");
        }
        Console.Out.Write(output.ToString());
        return 0;
    }

    static bool Generated(string name) { return name.Contains("<") || name.Contains("$"); }

    static string Owner(TypeDefinition type)
    {
        var name = Regex.Replace(type.Name, "`[0-9]+$", "");
        return type.DeclaringType != null ? Owner(type.DeclaringType) + "." + name : name;
    }

    /// The statement an IL offset belongs to: the last line-table entry at or before it.
    static LineNumberEntry Statement(LineNumberEntry[] entries, int offset)
    {
        LineNumberEntry found = null;
        foreach (var e in entries)
            if (e.Offset <= offset && (found == null || e.Offset >= found.Offset)) found = e;
        return found;
    }

    /// The member's name where it is declared: the nearest line at or above
    /// its body's first statement that spells the name followed by `after`.
    static Pos? Declaration(Source source, int row, string name, string after)
    {
        var pattern = new Regex(@"(?<![\w.])" + Regex.Escape(name) + after);
        for (int r = Math.Min(row, source.Lines.Length); r >= 1 && r > row - 40; r--)
        {
            var m = pattern.Match(source.Lines[r - 1]);
            if (m.Success) return new Pos(r, m.Index + 1);
        }
        return null;
    }

    /// Where a statement from `start` up to the next one spells `name` as a word.
    static IEnumerable<Pos> Spelled(Source source, Pos start, Pos? next, string name)
    {
        var pattern = new Regex(@"(?<!\w)" + Regex.Escape(name) + @"(?!\w)");
        int last = next.HasValue ? next.Value.Row : start.Row;
        for (int r = start.Row; r <= Math.Min(last, source.Lines.Length); r++)
        {
            foreach (Match m in pattern.Matches(source.Lines[r - 1]))
            {
                var p = new Pos(r, m.Index + 1);
                if (p.CompareTo(start) >= 0 && (!next.HasValue || p.CompareTo(next.Value) < 0)) yield return p;
            }
        }
    }

    static string Json(Source source, Pos p)
    {
        return "{\"path\": \"" + source.Rel + "\", \"line\": " + p.Row + ", \"column\": " + p.Col + "}";
    }

    static Source Load(string path)
    {
        Source source;
        if (sources.TryGetValue(path, out source)) return source;
        var full = Path.GetFullPath(path);
        source = full.StartsWith(root, StringComparison.Ordinal) && File.Exists(full)
            ? new Source { Rel = full.Substring(root.Length), Lines = Inactive(Blank(File.ReadAllText(full))).Split('\n') }
            : null;
        sources[path] = source;
        return source;
    }

    /// The text with the lines the compiler left out blanked: the branches of
    /// `#if` / `#elif` / `#else` the defined symbols do not select, and the
    /// directives themselves, so that a declaration is found where it was
    /// compiled.
    static string Inactive(string text)
    {
        var lines = text.Split('\n');
        var open = new Stack<bool[]>(); // per #if: { this branch is active, a branch was taken }
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            bool outer = open.All(b => b[0]);
            bool directive = true;
            if (line.StartsWith("#if")) { bool on = Holds(line.Substring(3)); open.Push(new[] { on, on }); }
            else if (line.StartsWith("#elif") && open.Count > 0) { var b = open.Peek(); b[0] = !b[1] && Holds(line.Substring(5)); b[1] |= b[0]; }
            else if (line.StartsWith("#else") && open.Count > 0) { var b = open.Peek(); b[0] = !b[1]; b[1] = true; }
            else if (line.StartsWith("#endif") && open.Count > 0) open.Pop();
            else directive = false;
            if (directive || !outer || !open.All(b => b[0])) lines[i] = new string(' ', lines[i].Length);
        }
        return string.Join("\n", lines);
    }

    /// Whether a directive's condition holds for the defined symbols: names,
    /// `!`, `&&`, `||`, parentheses, `true`, `false`.
    static bool Holds(string condition)
    {
        var tokens = Regex.Matches(condition, @"\w+|&&|\|\||!|\(|\)").Cast<Match>().Select(m => m.Value).ToList();
        int at = 0;
        Func<bool> or = null, and = null, unary = null;
        unary = () =>
        {
            if (at >= tokens.Count) return false;
            var t = tokens[at++];
            if (t == "!") return !unary();
            if (t == "(") { bool v = or(); at++; return v; }
            return t == "true" || (t != "false" && defines.Contains(t));
        };
        and = () => { bool v = unary(); while (at < tokens.Count && tokens[at] == "&&") { at++; v &= unary(); } return v; };
        or = () => { bool v = and(); while (at < tokens.Count && tokens[at] == "||") { at++; v |= and(); } return v; };
        return or();
    }

    /// The text with comments and string and character literals replaced by
    /// spaces (line breaks kept), so that a name in them is not a reference.
    static string Blank(string text)
    {
        var chars = text.ToCharArray();
        int i = 0;
        Action<int, int> blank = (from, to) => { for (int k = from; k < to && k < chars.Length; k++) if (chars[k] != '\n') chars[k] = ' '; };
        while (i < chars.Length)
        {
            char c = chars[i];
            char d = i + 1 < chars.Length ? chars[i + 1] : '\0';
            if (c == '/' && d == '/')
            {
                int end = text.IndexOf('\n', i);
                if (end < 0) end = chars.Length;
                blank(i, end); i = end;
            }
            else if (c == '/' && d == '*')
            {
                int end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? chars.Length : end + 2;
                blank(i, end); i = end;
            }
            else if (c == '@' && d == '"')
            {
                int k = i + 2;
                while (k < chars.Length && !(text[k] == '"' && (k + 1 >= chars.Length || text[k + 1] != '"'))) k += text[k] == '"' ? 2 : 1;
                blank(i, k + 1); i = k + 1;
            }
            else if (c == '"' || c == '\'')
            {
                int k = i + 1;
                while (k < chars.Length && text[k] != c && text[k] != '\n') k += text[k] == '\\' ? 2 : 1;
                blank(i, k + 1); i = k + 1;
            }
            else i++;
        }
        return new string(chars);
    }
}
