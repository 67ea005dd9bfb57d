using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Spector.Generators.Emitting;

namespace Spector.Generators.Tests;

/// <summary>The layout helpers the emitters share: each break keeps the code's meaning and the line width.</summary>
public sealed class DocLayoutTests
{
    [Test]
    public void A_call_that_fits_stays_on_one_line()
    {
        var lines = Doc.Print(Doc.Concat(Doc.Call("Run", "a", "b"), ";"), 20);

        Assert.That(lines, Is.EqualTo(new[] { "Run(a, b);" }));
    }

    [Test]
    public void A_call_that_does_not_fit_puts_one_argument_a_line_and_its_parenthesis_on_its_own()
    {
        var lines = Doc.Print(Doc.Concat(Doc.Call("Run", "first", "second"), ";"), 15);

        Assert.That(lines, Is.EqualTo(new[] { "Run(", "    first,", "    second", ");" }));
    }

    [Test]
    public void The_text_after_a_group_up_to_the_next_break_counts_against_its_width()
    {
        // "Run(a, b)" fits in 11 columns, but not with the " =>" that follows it on the same line.
        var doc = Doc.Arrow(Doc.Concat("Run", Doc.Parameters("a", "b")), "x");

        Assert.That(Doc.Print(doc, 11), Is.EqualTo(new[] { "Run(", "    a,", "    b", ") => x;" }));
        Assert.That(Doc.Print(doc, 12), Is.EqualTo(new[] { "Run(a, b) =>", "    x;" }));
        Assert.That(Doc.Print(doc, 17), Is.EqualTo(new[] { "Run(a, b) => x;" }));
    }

    [Test]
    public void An_arrow_breaks_after_the_arrow_before_it_breaks_the_body()
    {
        var lines = Doc.Print(Doc.Arrow("int Size()", Doc.Call("Measure", "x")), 24);

        Assert.That(lines, Is.EqualTo(new[] { "int Size() =>", "    Measure(x);" }));
    }

    [Test]
    public void An_initializer_breaks_with_braces_on_their_own_lines_and_a_trailing_comma()
    {
        var doc = Doc.Initializer("new Attrs", new Doc[] { "[\"a\"] = 1", "[\"b\"] = 2" });

        Assert.That(Doc.Print(doc, 40), Is.EqualTo(new[] { "new Attrs { [\"a\"] = 1, [\"b\"] = 2 }" }));
        Assert.That(
            Doc.Print(doc, 20),
            Is.EqualTo(new[] { "new Attrs", "{", "    [\"a\"] = 1,", "    [\"b\"] = 2,", "}" })
        );
    }

    [TestCase("SELECT \"a\", \"b\" FROM \"t\" WHERE \"a\" = @a AND \"b\" = @b")]
    [TestCase("back\\slash and \"quotes\" and\nnew lines\r\n  and  double  spaces  ")]
    [TestCase("oneverylongwordwithoutanyspacethatcannotbesplitanywhere")]
    [TestCase("")]
    public void A_split_string_literal_is_the_same_constant(string value)
    {
        var lines = Doc.Print(Doc.Concat("x = ", Doc.String(value), ";"), 24);
        var expression = SyntaxFactory.ParseExpression(string.Join("\n", lines).TrimEnd(';'));

        Assert.That(Constant(((AssignmentExpressionSyntax)expression).Right), Is.EqualTo(value));
        // Split only after spaces, never inside a word or an escape sequence.
        Assert.That(lines.Skip(1).All(l => l.TrimStart().StartsWith("+ \"", StringComparison.Ordinal)));
        Assert.That(lines.Where(l => l.Length > 24).All(l => !l[l.IndexOf('"')..].Contains(' ')));
    }

    [Test]
    public void A_summary_that_fits_stays_on_one_line()
    {
        Assert.That(DocComment.Summary("Short.", 40), Is.EqualTo(new[] { "/// <summary>Short.</summary>" }));
    }

    [Test]
    public void A_long_summary_wraps_at_words_and_keeps_tags_whole()
    {
        const string text =
            "The record as it was at <paramref name=\"at\"/>, see <see cref=\"Get(int, long)\"/>: null when absent.";

        var lines = DocComment.Summary(text, 40);

        Assert.That(lines.First(), Is.EqualTo("/// <summary>"));
        Assert.That(lines.Last(), Is.EqualTo("/// </summary>"));
        Assert.That(lines.All(l => l.Length <= 40), string.Join("\n", lines));
        Assert.That(lines.Any(l => l.Contains("<see cref=\"Get(int, long)\"/>:")), string.Join("\n", lines));
        Assert.That(lines.Any(l => l.Contains("<paramref name=\"at\"/>,")), string.Join("\n", lines));
        var body = lines.Skip(1).SkipLast(1).Select(l => l["/// ".Length..]);
        Assert.That(string.Join(" ", body), Is.EqualTo(text));
    }

    [Test]
    public void A_tag_longer_than_a_line_is_split_only_at_its_own_spaces()
    {
        const string text = "As <see cref=\"Update(global::A.Attrs, global::A.Options?, global::A.Token)\"/>, inside.";

        var lines = DocComment.Summary(text, 50);

        Assert.That(lines.All(l => l.Length <= 50), string.Join("\n", lines));
        var body = lines.Skip(1).SkipLast(1).Select(l => l["/// ".Length..]);
        Assert.That(string.Join(" ", body), Is.EqualTo(text));
    }

    private static string Constant(ExpressionSyntax expression) =>
        expression switch
        {
            LiteralExpressionSyntax literal => (string)literal.Token.Value!,
            BinaryExpressionSyntax { RawKind: (int)SyntaxKind.AddExpression } sum => Constant(sum.Left)
                + Constant(sum.Right),
            _ => throw new AssertionException($"not a string constant: {expression}"),
        };
}
