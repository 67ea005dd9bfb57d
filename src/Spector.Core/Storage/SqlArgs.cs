using System.Data;
using Dapper;

namespace Spector;

/// <summary>
/// Command parameters as name/value pairs, bound by plain code. Dapper binds an anonymous object through IL it
/// emits at run time, which Native AOT cannot run (docs/aot.md); its <see cref="DynamicParameters"/> reads back
/// each parameter's <c>DbType</c>, which Npgsql answers by resolving the value's type afresh every time (more than
/// half of a PostgreSQL write's client time). Here each value gets the DbType Dapper would give it, set once, and
/// its name carries the <c>@</c> prefix so Microsoft.Data.Sqlite finds it in one lookup. Values of any other type
/// (lists, enums, user types with Dapper type handlers) are left to Dapper, all of a command's together.
/// </summary>
internal sealed class SqlArgs : SqlMapper.IDynamicParameters
{
    /// <summary>Why an API still needs Dapper's run-time IL (rows mapped to tuples); the AOT analyzer shows
    /// it.</summary>
    public const string DapperMapsRows =
        "Reads rows into tuples through Dapper, which emits IL at run time; not available under Native AOT yet "
        + "(docs/aot.md lists what is).";

    // Each value with the DbType it is bound with: Dapper's for a plain value, the given one for a null.
    private readonly List<(string Name, object? Value, DbType? Type)> _values;

    // A value of a type only Dapper binds (enum, list, a type with a Dapper handler): then Dapper binds them all.
    private bool _needsDapper;

    public SqlArgs(int capacity = 8) => _values = new(capacity);

    public int Count => _values.Count;

    public static SqlArgs Of(params ReadOnlySpan<(string Name, object? Value)> values)
    {
        var args = new SqlArgs(values.Length);
        foreach (var (name, value) in values)
            args.Add(name, value);
        return args;
    }

    /// <summary>Adds a parameter; <paramref name="type"/> types a null that the database must still know.</summary>
    public void Add(string name, object? value, DbType? type = null)
    {
        var bound = value is null ? type : TypeOf(value);
        _needsDapper |= value is not null && bound is null;
        _values.Add((name, value, bound));
    }

    /// <summary>Adds every parameter of <paramref name="other"/>.</summary>
    public void AddAll(SqlArgs other)
    {
        _values.AddRange(other._values);
        _needsDapper |= other._needsDapper;
    }

    /// <summary>Adds every parameter of <paramref name="other"/> with <paramref name="suffix"/> after its name (one
    /// row of a statement that writes many).</summary>
    public void AddAll(SqlArgs other, string suffix)
    {
        foreach (var (name, value, type) in other._values)
            _values.Add((name + suffix, value, type));
        _needsDapper |= other._needsDapper;
    }

    /// <summary>True when every value has a type bound here, without Dapper.</summary>
    public bool BindsPlainly => !_needsDapper;

    /// <summary>Adds the parameters to <paramref name="command"/>; only when <see cref="BindsPlainly"/>.</summary>
    public void AddTo(IDbCommand command)
    {
        foreach (var (name, value, type) in _values)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + name;
            parameter.Value = value ?? DBNull.Value;
            if (type is { } dbType)
                parameter.DbType = dbType;
            command.Parameters.Add(parameter);
        }
    }

    void SqlMapper.IDynamicParameters.AddParameters(IDbCommand command, SqlMapper.Identity identity)
    {
        if (BindsPlainly)
            AddTo(command);
        else
            ((SqlMapper.IDynamicParameters)ToDapper()).AddParameters(command, identity);
    }

    // Dapper looks each value's type up again (type handlers included), as it would have without Spector.
    private DynamicParameters ToDapper()
    {
        var parameters = new DynamicParameters();
        foreach (var (name, value, type) in _values)
            parameters.Add(name, value, value is null ? type : null);
        return parameters;
    }

    // The DbType Dapper's own lookup gives these types; anything else goes through Dapper.
    private static DbType? TypeOf(object value) =>
        value switch
        {
            string => DbType.String,
            Guid => DbType.Guid,
            long => DbType.Int64,
            int => DbType.Int32,
            short => DbType.Int16,
            byte => DbType.Byte,
            bool => DbType.Boolean,
            decimal => DbType.Decimal,
            double => DbType.Double,
            float => DbType.Single,
            byte[] => DbType.Binary,
            DateTimeOffset => DbType.DateTimeOffset,
            DateTime => DbType.DateTime,
            _ => null,
        };
}
