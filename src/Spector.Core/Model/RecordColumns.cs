using System.ComponentModel;

namespace Spector;

/// <summary>
/// The values of one record-table row, each under its column's parameter name. Generated <c>BindColumns</c>
/// overrides fill it; the values go straight into the write's parameters, with no intermediate bag.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RecordColumns
{
    internal RecordColumns(int capacity) => Args = new SqlArgs(capacity);

    internal SqlArgs Args { get; }

    /// <summary>Adds the value of the column whose parameter is <paramref name="name"/>.</summary>
    public void Add(string name, object? value) => Args.Add(name, value);
}
