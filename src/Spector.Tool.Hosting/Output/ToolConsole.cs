using Spectre.Console;

namespace Spector.Tool;

/// <summary>
/// Where the commands write: progress bars and tables on a terminal, plain lines when the output is redirected or
/// runs under CI (a log file gets one line per step, not a screen of redraws). Progress and errors go to standard
/// error, so standard output holds only results (one JSON document with <c>--json</c>).
/// </summary>
public sealed class ToolConsole
{
    private readonly IAnsiConsole? _terminal;
    private readonly IAnsiConsole? _progressTerminal;

    /// <summary>Writes to <paramref name="output"/> and <paramref name="error"/>; progress bars only when <paramref
    /// name="interactive"/>.</summary>
    public ToolConsole(TextWriter output, TextWriter error, bool interactive)
    {
        Out = output;
        Error = error;
        if (!interactive)
            return;
        _terminal = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        _progressTerminal = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(error) });
    }

    /// <summary>The process console: interactive unless redirected or under CI (<c>CI</c> or <c>TF_BUILD</c>
    /// set).</summary>
    public static ToolConsole ForProcess() =>
        new(
            Console.Out,
            Console.Error,
            !Console.IsOutputRedirected
                && Environment.GetEnvironmentVariable("CI") is null
                && Environment.GetEnvironmentVariable("TF_BUILD") is null
        );

    /// <summary>Standard output.</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error.</summary>
    public TextWriter Error { get; }

    /// <summary>True when progress bars and tables are drawn.</summary>
    public bool Interactive => _terminal is not null;

    /// <summary>One line of output.</summary>
    public void Line(string text) => Out.WriteLine(text);

    /// <summary>
    /// Runs <paramref name="work"/> with a progress bar named <paramref name="title"/>; the work reports
    /// (done, total). Plain output gets a start line and a line at each quarter. Both go to standard error.
    /// </summary>
    public async Task<T> ProgressAsync<T>(string title, Func<Action<long, long>, Task<T>> work)
    {
        if (_progressTerminal is null)
            return await PlainProgressAsync(title, work).ConfigureAwait(false);
        T result = default!;
        await _progressTerminal
            .Progress()
            .AutoClear(false)
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn(),
                new PercentageColumn(),
                new RemainingTimeColumn()
            )
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(title));
                result = await work(
                        (done, total) =>
                        {
                            task.MaxValue = Math.Max(1, total);
                            task.Value = Math.Min(done, task.MaxValue);
                        }
                    )
                    .ConfigureAwait(false);
                task.Value = task.MaxValue;
            })
            .ConfigureAwait(false);
        return result;
    }

    private async Task<T> PlainProgressAsync<T>(string title, Func<Action<long, long>, Task<T>> work)
    {
        Error.WriteLine($"{title} ...");
        var quarter = 0;
        var gate = new object();
        return await work(
                (done, total) =>
                {
                    if (total <= 0)
                        return;
                    var reached = (int)Math.Min(4, done * 4 / total);
                    lock (gate)
                    {
                        if (reached <= quarter || reached == 4)
                            return;
                        quarter = reached;
                        Error.WriteLine($"{title}: {done}/{total}");
                    }
                }
            )
            .ConfigureAwait(false);
    }

    /// <summary>A table: drawn on a terminal, tab-separated lines (header first) otherwise.</summary>
    public void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        if (_terminal is null)
        {
            Line(string.Join('\t', headers));
            foreach (var row in rows)
                Line(string.Join('\t', row));
            return;
        }
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var header in headers)
            table.AddColumn(Markup.Escape(header));
        foreach (var row in rows)
            table.AddRow(row.Select(Markup.Escape).ToArray());
        _terminal.Write(table);
    }
}
