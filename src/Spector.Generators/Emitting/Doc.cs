using System.Collections.Generic;
using System.Linq;

namespace Spector.Generators.Emitting;

/// <summary>
/// A piece of generated code with the places it may break, laid out the way csharpier lays out hand-written
/// code: a group stays on one line when it fits in <see cref="Width"/> columns and otherwise breaks at its own
/// line breaks, outermost group first, each inner group deciding again (Wadler's pretty printer).
/// </summary>
internal abstract partial class Doc
{
    public const int Width = 120;

    /// <summary>A space on a flat line, else a line break.</summary>
    public static readonly Doc Line = new LineDoc(" ", hard: false);

    /// <summary>Nothing on a flat line, else a line break.</summary>
    public static readonly Doc SoftLine = new LineDoc("", hard: false);

    /// <summary>Always a line break.</summary>
    public static readonly Doc HardLine = new LineDoc("", hard: true);

    public static implicit operator Doc(string text) => new TextDoc(text);

    public static Doc Concat(params Doc[] parts) => new ConcatDoc(parts);

    public static Doc Group(params Doc[] parts) => new GroupDoc(Concat(parts));

    /// <summary>Line breaks inside <paramref name="parts"/> indent one level more.</summary>
    public static Doc Indent(params Doc[] parts) => new IndentDoc(Concat(parts));

    public static Doc IfBroken(Doc broken, Doc flat) => new IfBrokenDoc(broken, flat);

    public static Doc Join(Doc separator, IEnumerable<Doc> items)
    {
        var parts = new List<Doc>();
        foreach (var item in items)
        {
            if (parts.Count > 0)
                parts.Add(separator);
            parts.Add(item);
        }
        return new ConcatDoc(parts.ToArray());
    }

    /// <summary><c>head(a, b)</c>, or one argument a line, indented, with the parenthesis on its own line.</summary>
    public static Doc Call(Doc head, params Doc[] arguments) => List(head, "(", arguments, ")");

    /// <summary><c>(a, b)</c> after a member name: a parameter list, broken one parameter a line.</summary>
    public static Doc Parameters(params Doc[] parameters) => List("", "(", parameters, ")");

    /// <summary><c>name&lt;a, b&gt;</c>, broken like an argument list when even that does not fit.</summary>
    public static Doc Generic(string name, params Doc[] arguments) => List(name, "<", arguments, ">");

    /// <summary>
    /// <c>head { a, b }</c>, or the braces on their own lines with one item a line and a trailing comma.
    /// </summary>
    public static Doc Initializer(Doc head, IEnumerable<Doc> items)
    {
        var list = items.ToArray();
        if (list.Length == 0)
            return Concat(head, " { }");
        return Group(head, Line, "{", Indent(Line, Join(Concat(",", Line), list), IfBroken(",", "")), Line, "}");
    }

    /// <summary><c>head =&gt; body;</c>, breaking after the arrow when the body does not fit beside it.</summary>
    public static Doc Arrow(Doc head, Doc body) => Concat(head, " =>", Group(Indent(Line, body)), ";");

    /// <summary><c>target = value;</c>, breaking after the <c>=</c> when the value does not fit beside it.</summary>
    public static Doc Assignment(Doc target, Doc value) => Concat(Assign(target, value), ";");

    /// <summary><c>target = value</c> as an expression or an initializer entry, breaking like an assignment.</summary>
    public static Doc Assign(Doc target, Doc value) => Group(target, " =", Indent(Line, value));

    /// <summary>
    /// A C# string literal; when it does not fit, a concatenation of literals split at spaces, one a line. The
    /// compiler folds the concatenation back into the same constant.
    /// </summary>
    public static Doc String(string value) => Group(new StringDoc(value));

    private static Doc List(Doc head, string open, Doc[] items, string close) =>
        items.Length == 0
            ? Concat(head, open, close)
            : Group(head, open, Indent(SoftLine, Join(Concat(",", Line), items)), SoftLine, close);

    /// <summary>The lines of <paramref name="doc"/> laid out in <paramref name="width"/> columns.</summary>
    public static List<string> Print(Doc doc, int width) => new Printer(width).Print(doc);

    private sealed class TextDoc(string text) : Doc
    {
        public string Text { get; } = text;
    }

    private sealed class LineDoc(string flat, bool hard) : Doc
    {
        public string Flat { get; } = flat;
        public bool Hard { get; } = hard;
    }

    private sealed class ConcatDoc(Doc[] parts) : Doc
    {
        public Doc[] Parts { get; } = parts;
    }

    private sealed class GroupDoc(Doc content) : Doc
    {
        public Doc Content { get; } = content;
    }

    private sealed class IndentDoc(Doc content) : Doc
    {
        public Doc Content { get; } = content;
    }

    private sealed class IfBrokenDoc(Doc broken, Doc flat) : Doc
    {
        public Doc Broken { get; } = broken;
        public Doc Flat { get; } = flat;
    }

    private sealed class StringDoc(string value) : Doc
    {
        public string Value { get; } = value;
    }
}
