using Dapper;

namespace Spector;

/// <summary>
/// Command parameters as name/value pairs. Dapper binds an anonymous object through IL it emits at run time, which
/// Native AOT cannot run; parameters added one by one are bound by plain code (docs/aot.md).
/// </summary>
internal static class SqlArgs
{
    public static DynamicParameters Of(params ReadOnlySpan<(string Name, object? Value)> values)
    {
        var parameters = new DynamicParameters();
        foreach (var (name, value) in values) parameters.Add(name, value);
        return parameters;
    }
}
