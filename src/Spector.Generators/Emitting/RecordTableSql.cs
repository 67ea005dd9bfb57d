using System.Collections.Generic;
using System.Linq;
using Spector.Generators.Model;

namespace Spector.Generators.Emitting;

/// <summary>
/// The record table's SQL, written at compile time from the mapped properties. Identifiers were validated
/// by the parser and are double-quoted, which PostgreSQL and SQLite both accept.
/// </summary>
internal sealed class RecordTableSql
{
    private readonly string _table;
    private readonly IReadOnlyList<PropertyModel> _columns;
    private readonly PropertyModel _id;

    public RecordTableSql(string table, EquatableArray<PropertyModel> properties)
    {
        _table = table;
        var mapped = properties.Where(p => p.Column is not null).ToList();
        _id = mapped.First(p => p.Key == "id");
        // The id first: readers of the generated table rely on it.
        _columns = new[] { _id }.Concat(mapped.Where(p => p != _id)).ToList();
    }

    public IReadOnlyList<PropertyModel> Columns => _columns;

    public string Insert => $"INSERT INTO {Q(_table)} ({ColumnList}) VALUES ({ParameterList})";

    /// <summary>
    /// The parameter a column binds to: <c>r_</c> and the column name. Spector's own parameters in the same
    /// command start with <c>__</c>, so no column name, <c>[Column("__seq")]</c> included, can collide with them.
    /// </summary>
    public static string Parameter(PropertyModel column) => "r_" + column.Column;

    /// <summary>Insert-or-replace by id, so the row always matches the replayed state even if it went
    /// missing.</summary>
    public string Upsert
    {
        get
        {
            var others = _columns.Where(c => c != _id).ToList();
            var onConflict =
                others.Count == 0
                    ? "DO NOTHING"
                    : "DO UPDATE SET "
                        + string.Join(", ", others.Select(c => $"{Q(c.Column!)} = excluded.{Q(c.Column!)}"));
            return $"{Insert} ON CONFLICT ({Q(_id.Column!)}) {onConflict}";
        }
    }

    public string Delete => $"DELETE FROM {Q(_table)} WHERE {Q(_id.Column!)} = @id";

    public string Create(bool postgres) =>
        $"CREATE TABLE IF NOT EXISTS {Q(_table)} ("
        + string.Join(", ", _columns.Select(c => $"{Q(c.Column!)} {ColumnType(c.Kind, postgres)}{Constraint(c)}"))
        + ")";

    private string ParameterList => string.Join(", ", _columns.Select(c => "@" + Parameter(c)));

    private string ColumnList => string.Join(", ", _columns.Select(c => Q(c.Column!)));

    private string Constraint(PropertyModel column) =>
        column == _id ? " PRIMARY KEY"
        : column.IsNullable ? " NULL"
        : " NOT NULL";

    private static string Q(string name) => "\"" + name + "\"";

    private static string ColumnType(ValueKind kind, bool postgres) =>
        kind switch
        {
            ValueKind.String or ValueKind.Enum => postgres ? "text" : "TEXT",
            ValueKind.Boolean => postgres ? "boolean" : "INTEGER",
            ValueKind.Int16 => postgres ? "smallint" : "INTEGER",
            ValueKind.Int32 => postgres ? "integer" : "INTEGER",
            ValueKind.Int64 => postgres ? "bigint" : "INTEGER",
            ValueKind.Single => postgres ? "real" : "REAL",
            ValueKind.Double => postgres ? "double precision" : "REAL",
            // SQLite's NUMERIC affinity would round decimals through REAL; TEXT keeps them exact.
            ValueKind.Decimal => postgres ? "numeric" : "TEXT",
            ValueKind.Guid => postgres ? "uuid" : "BLOB",
            ValueKind.DateTime or ValueKind.DateTimeOffset => postgres ? "timestamptz" : "TEXT",
            _ => postgres ? "jsonb" : "TEXT",
        };
}
