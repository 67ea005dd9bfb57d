using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Spector.Generators;

namespace Spector.Tests;

/// <summary>
/// A consumer model compiled at test time by the real generator and loaded into its own collectible
/// <see cref="AssemblyLoadContext"/>, so one test can hold two builds of the same classes: the code that wrote a
/// log and the upgraded code that replays it. Spector itself resolves to the test's copy, so stores, attrs and
/// exceptions are the test's own types.
/// </summary>
internal sealed class CompiledModel : IDisposable
{
    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly MetadataReference[] References =
    [
        .. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Append(typeof(EventLog).Assembly.Location)
            .Append(typeof(Dapper.SqlMapper).Assembly.Location)
            .Append(typeof(Npgsql.NpgsqlDataSource).Assembly.Location)
            .Distinct(StringComparer.Ordinal)
            .Select(path => MetadataReference.CreateFromFile(path)),
    ];

    // A compilation costs far more than a load: each distinct source is compiled once per test run.
    private static readonly ConcurrentDictionary<string, Lazy<byte[]>> Images = new(StringComparer.Ordinal);

    private readonly AssemblyLoadContext _context;
    private readonly Assembly _assembly;

    private CompiledModel(string name, byte[] image)
    {
        _context = new AssemblyLoadContext(name, isCollectible: true);
        using var stream = new MemoryStream(image);
        _assembly = _context.LoadFromStream(stream);
    }

    /// <summary>Compiles <paramref name="source"/> with the generator; any error, Spector's or the compiler's,
    /// fails.</summary>
    public static CompiledModel Load(string name, string source)
    {
        var image = Images.GetOrAdd(source, s => new Lazy<byte[]>(() => Build(name, s))).Value;
        return new CompiledModel(name, image);
    }

    /// <summary>The errors the generator and the compiler report for <paramref name="source"/>.</summary>
    public static IReadOnlyList<Diagnostic> Errors(string source)
    {
        var (_, diagnostics) = Compile("Errors", source);
        return diagnostics;
    }

    /// <summary>The events table class's runtime handle (its generated static <c>Log</c>).</summary>
    public EventLog Log(string eventsTableType) =>
        (EventLog)Type(eventsTableType).GetProperty("Log", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    public Type Type(string fullName) => _assembly.GetType(fullName, throwOnError: true)!;

    /// <summary>Calls a generated static operation on the default store, e.g. <c>InsertAsync(attrs)</c>.</summary>
    public Task<object?> CallAsync(string type, string method, params object?[] arguments) =>
        InvokeAsync(Type(type), null, method, arguments);

    /// <summary>Calls a generated instance operation, e.g. <c>record.FreezeAsync("audit")</c>, and awaits it.</summary>
    public static Task<object?> CallAsync(object record, string method, params object?[] arguments) =>
        InvokeAsync(record.GetType(), record, method, arguments);

    /// <summary>A property of a record built by the model.</summary>
    public static object? Get(object record, string property)
    {
        var info =
            record.GetType().GetProperty(property)
            ?? throw new MissingMemberException(record.GetType().FullName, property);
        return info.GetValue(record);
    }

    public void Dispose() => _context.Unload();

    private static async Task<object?> InvokeAsync(Type type, object? target, string name, object?[] arguments)
    {
        // The overload on the default store: every argument, its optional parameters (write options) left at their
        // defaults, then the cancellation token; not the session one.
        var flags = BindingFlags.Public | (target is null ? BindingFlags.Static : BindingFlags.Instance);
        var method = type.GetMethods(flags)
            .Single(m =>
            {
                var parameters = m.GetParameters();
                return m.Name == name
                    && parameters.Length > arguments.Length
                    && parameters[arguments.Length..^1].All(p => p.HasDefaultValue)
                    && parameters[^1].ParameterType == typeof(CancellationToken)
                    && (arguments.Length == 0 || parameters[0].ParameterType != typeof(SpectorSession));
            });
        var defaults = method.GetParameters()[arguments.Length..^1].Select(p => p.DefaultValue);
        var task = (Task)method.Invoke(target, [.. arguments, .. defaults, CancellationToken.None])!;
        await task;
        return task.GetType().GetProperty("Result")?.GetValue(task);
    }

    private static byte[] Build(string name, string source)
    {
        var (compilation, errors) = Compile(name, source);
        if (errors.Count > 0)
            throw new InvalidOperationException($"The model {name} does not build:\n{string.Join("\n", errors)}");
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        if (!emitted.Success)
            throw new InvalidOperationException(
                $"The model {name} does not emit:\n{string.Join("\n", emitted.Diagnostics)}"
            );
        return image.ToArray();
    }

    private static (Compilation Compilation, IReadOnlyList<Diagnostic> Errors) Compile(string name, string source)
    {
        var options = new CSharpCompilationOptions(
            OutputKind.DynamicallyLinkedLibrary,
            nullableContextOptions: NullableContextOptions.Enable
        );
        var compilation = CSharpCompilation.Create(
            name,
            [CSharpSyntaxTree.ParseText(source, ParseOptions, path: name + ".cs")],
            References,
            options
        );
        CSharpGeneratorDriver
            .Create([new SpectorGenerator().AsSourceGenerator()], parseOptions: ParseOptions)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var errors = generatorDiagnostics
            .Concat(output.GetDiagnostics())
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .ToList();
        return (output, errors);
    }
}
