using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace Spector.Tool;

/// <summary>
/// Finds what the generator emitted in an assembly: every <c>[EventsTable]</c> class's static <c>Log</c> and every
/// evented type's static <c>SpectorType</c>. Reading them runs only the generated static initializers.
/// </summary>
public static class EventsTableScanner
{
    /// <summary>The events tables declared in <paramref name="assembly"/>, ordered by table name.</summary>
    [RequiresUnreferencedCode("Reads generated static members by reflection.")]
    public static IReadOnlyList<EventLog> Logs(Assembly assembly) =>
        LoadableTypes(assembly)
            .Where(t =>
                t.GetCustomAttributesData().Any(a => a.AttributeType.FullName == typeof(EventsTableAttribute).FullName)
            )
            .Select(t => t.GetProperty("Log", BindingFlags.Public | BindingFlags.Static)?.GetValue(null))
            .OfType<EventLog>()
            .Distinct()
            .OrderBy(l => l.Table, StringComparer.Ordinal)
            .ToList();

    /// <summary>The evented types declared in <paramref name="assembly"/>, ordered by name.</summary>
    [RequiresUnreferencedCode("Reads generated static members by reflection.")]
    [RequiresDynamicCode("Closes a generic handle over each evented type.")]
    public static IReadOnlyList<EventedTypeHandle> Types(Assembly assembly) =>
        LoadableTypes(assembly)
            .Where(t => !t.ContainsGenericParameters)
            .Select(t => t.GetProperty("SpectorType", BindingFlags.Public | BindingFlags.Static))
            .Where(p =>
                p is { PropertyType.IsGenericType: true }
                && p.PropertyType.GetGenericTypeDefinition() == typeof(EventedType<>)
            )
            .Select(p => EventedTypeHandle.Create(p!.PropertyType.GetGenericArguments()[0], p.GetValue(null)!))
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .ToList();

    // An app's assembly may hold types whose base lives in a framework the tool does not load (ASP.NET Core): skip
    // those.
    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException partial)
        {
            return partial.Types.OfType<Type>();
        }
    }
}
