using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace Spector.Tool;

/// <summary>
/// Loads a user's app and its dependencies (found through its .deps.json) in a collectible context of its own.
/// Spector, every assembly the tool itself ships and its runtime's come from the tool, so the app's events
/// tables are the tool's <see cref="EventLog"/> type; framework assemblies the tool's runtime lacks (ASP.NET Core) are
/// found
/// beside it in the shared framework folder.
/// </summary>
internal sealed class AppLoadContext(string assemblyPath)
    : AssemblyLoadContext($"spector-app:{Path.GetFileName(assemblyPath)}", isCollectible: true)
{
    private readonly AssemblyDependencyResolver _resolver = new(assemblyPath);

    protected override Assembly? Load(AssemblyName name)
    {
        if (SharedWithTool(name))
            return null;
        if (_resolver.ResolveAssemblyToPath(name) is { } path)
            return LoadFromAssemblyPath(path);
        return SharedFrameworkPath(name) is { } framework ? LoadFromAssemblyPath(framework) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName) =>
        _resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } path
            ? LoadUnmanagedDllFromPath(path)
            : IntPtr.Zero;

    // The tool's own assemblies and its runtime's (the trusted platform list holds both): one copy of each type.
    private static readonly HashSet<string> ToolAssemblies = (
        (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? ""
    )
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(Path.GetFileNameWithoutExtension)
        .OfType<string>()
        .ToHashSet(StringComparer.OrdinalIgnoreCase);

    private static bool SharedWithTool(AssemblyName name) =>
        name.Name is { } simple
        && (
            simple == "Spector"
            || simple.StartsWith("Spector.", StringComparison.Ordinal)
            || ToolAssemblies.Contains(simple)
        );

    // .../shared/Microsoft.NETCore.App/10.0.x/ -> .../shared/<other framework>/10.0.x/<name>.dll
    private static string? SharedFrameworkPath(AssemblyName name)
    {
        var runtime = new DirectoryInfo(RuntimeEnvironment.GetRuntimeDirectory());
        if (runtime.Parent?.Parent is not { } shared)
            return null;
        foreach (var framework in shared.GetDirectories())
        {
            var candidate = Path.Combine(framework.FullName, runtime.Name, name.Name + ".dll");
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }
}
