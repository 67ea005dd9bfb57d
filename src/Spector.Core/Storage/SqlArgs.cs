using Dapper;

namespace Spector;

/// <summary>
/// Command parameters as name/value pairs. Dapper binds an anonymous object through IL it emits at run time, which
/// Native AOT cannot run; parameters added one by one are bound by plain code (docs/aot.md).
/// </summary>
internal static class SqlArgs
{
    /// <summary>Why an API still needs Dapper's run-time IL (rows mapped to tuples); the AOT analyzer shows
    /// it.</summary>
    public const string DapperMapsRows =
        "Reads rows into tuples through Dapper, which emits IL at run time; not available under Native AOT yet "
        + "(docs/aot.md lists what is).";

    public static DynamicParameters Of(params ReadOnlySpan<(string Name, object? Value)> values)
    {
        var parameters = new DynamicParameters();
        foreach (var (name, value) in values)
            parameters.Add(name, value);
        return parameters;
    }
}
