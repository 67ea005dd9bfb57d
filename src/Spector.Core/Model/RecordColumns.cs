using System.ComponentModel;
using System.Globalization;

namespace Spector;

/// <summary>
/// The values of one record-table row, each under its column's parameter name. Generated <c>BindColumns</c>
/// overrides fill it; the values go straight into the write's parameters, with no intermediate bag.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RecordColumns
{
    private readonly bool _decimalsAsText;

    /// <param name="capacity">The number of columns.</param>
    /// <param name="decimalsAsText">
    /// Binds decimals as their invariant text (SQLite's TEXT columns): Microsoft.Data.Sqlite would write 1.50 as 1.5,
    /// losing the scale the record holds.
    /// </param>
    internal RecordColumns(int capacity, bool decimalsAsText)
    {
        Args = new SqlArgs(capacity);
        _decimalsAsText = decimalsAsText;
    }

    internal SqlArgs Args { get; }

    /// <summary>Adds the value of the column whose parameter is <paramref name="name"/>.</summary>
    public void Add(string name, object? value) =>
        Args.Add(
            name,
            _decimalsAsText && value is decimal number ? number.ToString(CultureInfo.InvariantCulture) : value
        );
}
