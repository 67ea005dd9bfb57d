using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Spector.Analyzers.SchemaLock;
using Spector.Analyzers.Usage;

namespace Spector.Generators.Tests;

/// <summary>Runs the real analyzers (with the generator, as a build does) and applies the real code fixes in a
/// workspace.</summary>
internal static class AnalyzerHarness
{
    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers =
    [
        new SchemaLockAnalyzer(),
        new ActionHandlerAnalyzer(),
    ];

    private sealed class LockText(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }

    /// <summary>Every Spector diagnostic of the build: generator and analyzers, hidden ones included.</summary>
    public static Task<ImmutableArray<Diagnostic>> DiagnosticsAsync(string? lockFile, params string[] sources) =>
        DiagnosticsAsync(Project(lockFile, sources));

    public static async Task<ImmutableArray<Diagnostic>> DiagnosticsAsync(Project project)
    {
        var compilation = (await project.GetCompilationAsync())!;
        GeneratorHarness
            .Driver()
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var additional = project.AdditionalDocuments.Select(d =>
            (AdditionalText)new LockText(d.FilePath!, d.GetTextAsync().Result.ToString())
        );
        var analyzed = await output
            .WithAnalyzers(Analyzers, new AnalyzerOptions([.. additional]))
            .GetAnalyzerDiagnosticsAsync();
        return [.. generatorDiagnostics.Concat(analyzed).Where(d => d.Id.StartsWith("SPEC", StringComparison.Ordinal))];
    }

    /// <summary>A workspace project holding the sources (Source0.cs, ...) and the optional lock file.</summary>
    public static Project Project(string? lockFile, params string[] sources)
    {
        var workspace = new AdhocWorkspace();
        var project = workspace.AddProject(
            ProjectInfo.Create(
                ProjectId.CreateNewId(),
                VersionStamp.Default,
                "Consumer",
                "Consumer",
                LanguageNames.CSharp,
                compilationOptions: GeneratorHarness.Options,
                metadataReferences: GeneratorHarness.References
            )
        );
        for (var i = 0; i < sources.Length; i++)
            project = project.AddDocument($"Source{i}.cs", sources[i], filePath: $"/project/Source{i}.cs").Project;
        if (lockFile is not null)
            project = project
                .AddAdditionalDocument("spector.lock", lockFile, filePath: "/project/spector.lock")
                .Project;
        return project;
    }

    /// <summary>Fix all in the project scope, as the IDE runs it: the provider's FixAllProvider with the action's
    /// key.</summary>
    public static async Task<Solution> FixAllAsync(
        Project project,
        CodeFixProvider provider,
        Diagnostic diagnostic,
        string title
    )
    {
        var document = project.Documents.Single(d => d.FilePath == diagnostic.Location.GetLineSpan().Path);
        var actions = new List<CodeAction>();
        await provider.RegisterCodeFixesAsync(
            new CodeFixContext(document, diagnostic, (a, _) => actions.Add(a), CancellationToken.None)
        );
        var key = actions.Single(a => a.Title == title).EquivalenceKey;
        var context = new FixAllContext(
            document,
            provider,
            FixAllScope.Project,
            key,
            [diagnostic.Id],
            new AllDiagnostics(),
            CancellationToken.None
        );
        var action =
            await provider.GetFixAllProvider()!.GetFixAsync(context)
            ?? throw new AssertionException("no fix-all action");
        var operations = await action.GetOperationsAsync(CancellationToken.None);
        return operations.OfType<ApplyChangesOperation>().Single().ChangedSolution;
    }

    private sealed class AllDiagnostics : FixAllContext.DiagnosticProvider
    {
        public override async Task<IEnumerable<Diagnostic>> GetDocumentDiagnosticsAsync(
            Document document,
            CancellationToken cancellationToken
        ) => (await DiagnosticsAsync(document.Project)).Where(d => d.Location.GetLineSpan().Path == document.FilePath);

        public override async Task<IEnumerable<Diagnostic>> GetProjectDiagnosticsAsync(
            Project project,
            CancellationToken cancellationToken
        ) => (await DiagnosticsAsync(project)).Where(d => !d.Location.IsInSource);

        public override async Task<IEnumerable<Diagnostic>> GetAllDiagnosticsAsync(
            Project project,
            CancellationToken cancellationToken
        ) => await DiagnosticsAsync(project);
    }

    /// <summary>The text of the project's spector.lock.</summary>
    public static async Task<string> LockTextAsync(Project project) =>
        (await project.AdditionalDocuments.Single(d => d.Name == "spector.lock").GetTextAsync()).ToString();

    /// <summary>Applies the fix titled <paramref name="title"/> offered for <paramref name="diagnostic"/> and returns
    /// the changed solution.</summary>
    public static async Task<Solution> ApplyAsync(
        Project project,
        CodeFixProvider provider,
        Diagnostic diagnostic,
        string title
    )
    {
        var document = project.Documents.Single(d => d.FilePath == diagnostic.Location.GetLineSpan().Path);
        var actions = new List<CodeAction>();
        await provider.RegisterCodeFixesAsync(
            new CodeFixContext(document, diagnostic, (a, _) => actions.Add(a), CancellationToken.None)
        );
        var action =
            actions.SingleOrDefault(a => a.Title == title)
            ?? throw new AssertionException(
                $"no fix '{title}'; offered: {string.Join(", ", actions.Select(a => a.Title))}"
            );
        var operations = await action.GetOperationsAsync(CancellationToken.None);
        return operations.OfType<ApplyChangesOperation>().Single().ChangedSolution;
    }
}
