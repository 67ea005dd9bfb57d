using System.Collections.Generic;
using System.Text;

namespace Spector.Generators.Emitting;

internal abstract partial class Doc
{
    private enum Mode
    {
        Flat,
        Broken,
    }

    /// <summary>
    /// Lays a document out line by line. A group is printed flat when it and the text after it, up to the next
    /// possible line break, fit in what is left of the line; otherwise its line breaks are taken.
    /// </summary>
    private sealed class Printer(int width)
    {
        private readonly List<string> _lines = new();
        private readonly StringBuilder _line = new();

        public List<string> Print(Doc doc)
        {
            var stack = new Stack<(int Indent, Mode Mode, Doc Doc)>();
            stack.Push((0, Mode.Broken, doc));
            while (stack.Count > 0)
            {
                var (indent, mode, next) = stack.Pop();
                switch (next)
                {
                    case TextDoc text:
                        _line.Append(text.Text);
                        break;
                    case ConcatDoc concat:
                        for (var i = concat.Parts.Length - 1; i >= 0; i--)
                            stack.Push((indent, mode, concat.Parts[i]));
                        break;
                    case IndentDoc indented:
                        stack.Push((indent + 1, mode, indented.Content));
                        break;
                    case GroupDoc group:
                        var flat = mode == Mode.Flat || Fits(group.Content, stack, width - _line.Length);
                        stack.Push((indent, flat ? Mode.Flat : Mode.Broken, group.Content));
                        break;
                    case IfBrokenDoc choice:
                        stack.Push((indent, mode, mode == Mode.Broken ? choice.Broken : choice.Flat));
                        break;
                    case LineDoc line:
                        if (mode == Mode.Flat && !line.Hard)
                            _line.Append(line.Flat);
                        else
                            NewLine(indent);
                        break;
                    case StringDoc literal:
                        if (mode == Mode.Flat)
                            _line.Append(SourceWriter.Literal(literal.Value));
                        else
                            PrintSplit(literal.Value, indent);
                        break;
                }
            }
            _lines.Add(_line.ToString().TrimEnd());
            return _lines;
        }

        private void NewLine(int indent)
        {
            _lines.Add(_line.ToString().TrimEnd());
            _line.Clear().Append(' ', indent * 4);
        }

        /// <summary>
        /// A long literal as <c>"words " + "words"</c>, split only after a space, each piece as long as fits (two
        /// columns are kept for the comma or parenthesis that may follow). A word longer than a line stays whole.
        /// </summary>
        private void PrintSplit(string value, int indent)
        {
            var pieces = Words(value);
            var first = true;
            var i = 0;
            while (i < pieces.Count)
            {
                if (!first)
                {
                    NewLine(indent + 1);
                    _line.Append("+ ");
                }
                var piece = pieces[i++];
                while (i < pieces.Count && _line.Length + SourceWriter.Literal(piece + pieces[i]).Length + 2 <= width)
                    piece += pieces[i++];
                _line.Append(SourceWriter.Literal(piece));
                first = false;
            }
        }

        /// <summary>The words of <paramref name="value"/>, each with the spaces after it.</summary>
        private static List<string> Words(string value)
        {
            var words = new List<string>();
            var start = 0;
            for (var i = 1; i <= value.Length; i++)
            {
                var boundary = i == value.Length || (value[i - 1] == ' ' && value[i] != ' ');
                if (!boundary)
                    continue;
                words.Add(value.Substring(start, i - start));
                start = i;
            }
            if (words.Count == 0)
                words.Add(value);
            return words;
        }

        /// <summary>
        /// Whether <paramref name="doc"/> laid flat, and what follows it up to the next line break of an enclosing
        /// broken group, fits in <paramref name="room"/> columns.
        /// </summary>
        private static bool Fits(Doc doc, Stack<(int Indent, Mode Mode, Doc Doc)> rest, int room)
        {
            var pending = new Stack<(Mode Mode, Doc Doc)>();
            pending.Push((Mode.Flat, doc));
            using var after = rest.GetEnumerator();
            while (room >= 0)
            {
                if (pending.Count == 0)
                {
                    if (!after.MoveNext())
                        return true;
                    pending.Push((after.Current.Mode, after.Current.Doc));
                    continue;
                }
                var (mode, next) = pending.Pop();
                switch (next)
                {
                    case TextDoc text:
                        room -= text.Text.Length;
                        break;
                    case ConcatDoc concat:
                        for (var i = concat.Parts.Length - 1; i >= 0; i--)
                            pending.Push((mode, concat.Parts[i]));
                        break;
                    case IndentDoc indented:
                        pending.Push((mode, indented.Content));
                        break;
                    case GroupDoc group:
                        pending.Push((mode, group.Content));
                        break;
                    case IfBrokenDoc choice:
                        pending.Push((mode, mode == Mode.Broken ? choice.Broken : choice.Flat));
                        break;
                    case LineDoc line:
                        if (mode == Mode.Broken || line.Hard)
                            return true;
                        room -= line.Flat.Length;
                        break;
                    case StringDoc literal:
                        if (mode == Mode.Broken)
                            return room >= SourceWriter.Literal(Words(literal.Value)[0]).Length;
                        room -= SourceWriter.Literal(literal.Value).Length;
                        break;
                }
            }
            return false;
        }
    }
}
