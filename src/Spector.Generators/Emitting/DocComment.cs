using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace Spector.Generators.Emitting;

/// <summary>XML doc comments for generated members, wrapped at word boundaries like hand-written ones.</summary>
internal static class DocComment
{
    /// <summary>
    /// <c>/// &lt;summary&gt;text&lt;/summary&gt;</c> on one line when it fits in <paramref name="width"/> columns,
    /// else the text wrapped between <c>&lt;summary&gt;</c> and <c>&lt;/summary&gt;</c> lines. A tag such as
    /// <c>&lt;see cref="..."/&gt;</c> is split only when it does not fit on a line of its own, and then at its
    /// spaces: the compiler reads a cref across <c>///</c> lines as one (a method's parameter list, say).
    /// </summary>
    public static List<string> Summary(string text, int width)
    {
        var single = $"/// <summary>{text}</summary>";
        if (single.Length <= width)
            return new List<string> { single };
        var lines = new List<string> { "/// <summary>" };
        var line = new StringBuilder();
        var words = Words(text).SelectMany(w => ("/// " + w).Length > width ? w.Split(' ') : new[] { w });
        foreach (var word in words)
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                lines.Add(line.ToString());
                line.Clear();
            }
            line.Append(line.Length == 0 ? "/// " : " ").Append(word);
        }
        if (line.Length > 0)
            lines.Add(line.ToString());
        lines.Add("/// </summary>");
        return lines;
    }

    /// <summary>The text split at spaces outside tags: a tag and the punctuation around it make one word.</summary>
    public static List<string> Words(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inTag = false;
        foreach (var c in text)
        {
            if (c == '<')
                inTag = true;
            else if (c == '>')
                inTag = false;
            if (c == ' ' && !inTag)
            {
                if (word.Length > 0)
                    words.Add(word.ToString());
                word.Clear();
                continue;
            }
            word.Append(c);
        }
        if (word.Length > 0)
            words.Add(word.ToString());
        return words;
    }
}
