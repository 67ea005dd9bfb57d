using System.Text;

namespace Spector.Generators.Emitting;

/// <summary>A small indenting text writer for generated source.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public SourceWriter Line(string line = "")
    {
        if (line.Length > 0)
            _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
        return this;
    }

    /// <summary>Writes <paramref name="doc"/> laid out in what is left of the line width.</summary>
    public SourceWriter Write(Doc doc, int extraIndent = 0)
    {
        _indent += extraIndent;
        foreach (var line in Doc.Print(doc, Doc.Width - _indent * 4))
            Line(line);
        _indent -= extraIndent;
        return this;
    }

    /// <summary>Whether <paramref name="line"/> fits on one line at the current indent.</summary>
    public bool Fits(string line) => _indent * 4 + line.Length <= Doc.Width;

    /// <summary>A <c>summary</c> doc comment, wrapped to the line width.</summary>
    public SourceWriter Summary(string text)
    {
        foreach (var line in DocComment.Summary(text, Doc.Width - _indent * 4))
            Line(line);
        return this;
    }

    public SourceWriter Open(Doc declaration)
    {
        Write(declaration);
        Line("{");
        _indent++;
        return this;
    }

    public SourceWriter Close(string suffix = "")
    {
        _indent--;
        return Line("}" + suffix);
    }

    public override string ToString() => _text.ToString();

    /// <summary>A C# string literal for <paramref name="value"/>.</summary>
    public static string Literal(string value)
    {
        var builder = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    builder.Append("\\\"");
                    break;
                case '\\':
                    builder.Append("\\\\");
                    break;
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }
        return builder.Append('"').ToString();
    }
}
