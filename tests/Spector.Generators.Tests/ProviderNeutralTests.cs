using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Spector.Generators.Tests;

/// <summary>
/// Generated code names no database provider: it compiles against the core alone, and the providers' setup members
/// (UseSqlite, UsePostgres) reach an events table only through the provider packages.
/// </summary>
public sealed class ProviderNeutralTests
{
    // The core and what it needs, without Npgsql, Microsoft.Data.Sqlite or either Spector provider.
    private static readonly ImmutableArray<MetadataReference> CoreOnly =
    [
        .. GeneratorHarness.References.Where(r => !IsProvider(r.Display ?? "")),
    ];

    private static bool IsProvider(string path) =>
        Path.GetFileName(path)
            is "Npgsql.dll"
                or "Microsoft.Data.Sqlite.dll"
                or "Spector.Sqlite.dll"
                or "Spector.PostgreSql.dll";

    [Test]
    public void Generated_code_compiles_against_the_core_without_any_provider()
    {
        Assert.That(
            CoreOnly.Select(r => Path.GetFileName(r.Display)),
            Does.Contain("Spector.dll").And.None.Matches<string>(IsProvider)
        );
        Assert.That(
            GeneratorHarness.References.Select(r => r.Display ?? ""),
            Has.Some.Matches<string>(IsProvider),
            "nothing was left out"
        );

        var errors = Errors(CoreOnly, Sources.EventsTable, Sources.Order, Sources.Cart);

        Assert.That(errors, Is.Empty, string.Join("\n", errors));
    }

    [Test]
    public void UseSqlite_and_UsePostgres_come_from_the_provider_packages()
    {
        const string setup = """
            using Spector;
            namespace Shop;
            public static class Setup
            {
                public static void Sqlite() => ShopEvents.UseSqlite("Data Source=shop.db");
                public static void Postgres(Npgsql.NpgsqlDataSource source) => ShopEvents.UsePostgres(source);
            }
            """;

        Assert.That(
            Errors(GeneratorHarness.References, Sources.EventsTable, Sources.Order, Sources.Cart, setup),
            Is.Empty
        );
        var without = Errors(
            CoreOnly,
            Sources.EventsTable,
            Sources.Order,
            Sources.Cart,
            setup.Replace("Npgsql.NpgsqlDataSource", "object")
        );
        Assert.That(
            without.Select(e => e.Id),
            Is.EquivalentTo(new[] { "CS0117", "CS0117" }),
            string.Join("\n", without)
        );
    }

    [Test]
    public void A_static_events_table_class_compiles_and_keeps_its_log()
    {
        var events = Sources.EventsTable.Replace(
            "public partial class ShopEvents;",
            "public static partial class ShopEvents;"
        );
        Assert.That(events, Does.Contain("static partial class"));
        const string setup = """
            using Spector;
            namespace Shop;
            public static class Setup
            {
                public static void Sqlite() => ShopEvents.Log.Use(SpectorStore.Sqlite("Data Source=shop.db"));
            }
            """;

        var errors = Errors(GeneratorHarness.References, events, Sources.Order, Sources.Cart, setup);

        Assert.That(errors, Is.Empty, string.Join("\n", errors));
    }

    private static ImmutableArray<Diagnostic> Errors(
        ImmutableArray<MetadataReference> references,
        params string[] sources
    )
    {
        var compilation = CSharpCompilation.Create(
            "Consumer",
            sources.Select(
                (s, i) =>
                    CSharpSyntaxTree.ParseText(s, new CSharpParseOptions(LanguageVersion.Latest), path: $"Source{i}.cs")
            ),
            references,
            GeneratorHarness.Options
        );
        GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return [.. output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error)];
    }
}
