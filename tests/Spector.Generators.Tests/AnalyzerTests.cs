using Microsoft.CodeAnalysis;
using Spector.CodeFixes;

namespace Spector.Generators.Tests;

/// <summary>The schema lock rules (SPEC019-024), the handler hint (SPEC025) and the code fixes, on real
/// compilations.</summary>
public sealed class AnalyzerTests
{
    private const string Table = """
        using Spector;
        namespace Shop;
        [EventsTable("events")]
        [EventSchema(typeof(Order), 0)]
        public partial class ShopEvents;
        """;

    private static string Order(
        string evented = "[Evented(Version = 2, Actions = [\"archive\"])]",
        string handlers = ""
    ) =>
        $$"""
            using System;
            using Spector;
            namespace Shop;
            {{evented}}
            public partial class Order
            {
                public Guid Id { get; set; }
                static void Changeset(Changeset<Order> c) { }
                [OnAction("archive")] static void Archive(Changeset<Order> c) { }
                {{handlers}}
            }
            """;

    private const string Lock = """
        # Spector schema lock
        schema events 0 Shop.Order v2
        action events Shop.Order archive 419300326

        """;

    private static async Task<Diagnostic[]> Visible(string? lockFile, params string[] sources) =>
        (await AnalyzerHarness.DiagnosticsAsync(lockFile, sources))
            .Where(d => d.Severity > DiagnosticSeverity.Hidden)
            .ToArray();

    private static int Line(Diagnostic d) => d.Location.GetLineSpan().StartLinePosition.Line + 1;

    private static int Column(Diagnostic d) => d.Location.GetLineSpan().StartLinePosition.Character;

    private static string Underlined(Diagnostic d) => d.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan);

    [Test]
    public async Task A_project_that_matches_its_lock_has_no_Spector_diagnostics()
    {
        Assert.That(await Visible(Lock, Table, Order()), Is.Empty);
        // Without a lock file the only lock rule is the request to create one.
        Assert.That((await Visible(null, Table, Order())).Select(d => d.Id), Is.EqualTo(new[] { "SPEC041" }));
    }

    [Test]
    public async Task SPEC022_an_action_renamed_without_an_alias()
    {
        var renamed = Order("[Evented(Version = 2, Actions = [\"retire\"])]")
            .Replace("[OnAction(\"archive\")] static void Archive", "[OnAction(\"retire\")] static void Retire");

        var d = (await Visible(Lock, Table, renamed)).Single(x => x.Id == "SPEC022");

        Assert.That(d.Severity, Is.EqualTo(DiagnosticSeverity.Error));
        Assert.That(Line(d), Is.EqualTo(4));
        Assert.That((Column(d), Underlined(d)), Is.EqualTo((32, "[\"retire\"]")), "at the actions to change");
        Assert.That(
            d.GetMessage(),
            Does.Contain("'archive'")
                .And.Contain("419300326")
                .And.Contain("[ActionAlias(\"<new name>\", \"archive\")]")
                .And.Contain("'ShopEvents'")
        );

        // The alias the message asks for keeps the stored code, and the error goes away.
        var aliased = Table.Replace(
            "public partial class ShopEvents;",
            "[ActionAlias(\"retire\", \"archive\")]\npublic partial class ShopEvents;"
        );
        Assert.That(
            (await Visible(Lock + "action events Shop.Order retire 419300326\n", aliased, renamed)).Select(x => x.Id),
            Is.Empty
        );
        // So does an explicit retirement.
        var retired =
            Lock.Replace("action events Shop.Order archive", "retired action events Shop.Order archive")
            + "action events Shop.Order retire 485032198\n";
        Assert.That((await Visible(retired, Table, renamed)).Select(x => x.Id), Has.None.EqualTo("SPEC022"));
    }

    [Test]
    public async Task SPEC019_a_locked_schema_that_is_no_longer_listed()
    {
        var table = Table.Replace("[EventSchema(typeof(Order), 0)]\n", "");
        var d = (await Visible(Lock, table)).Single(x => x.Id == "SPEC019");

        Assert.That(Line(d), Is.EqualTo(3));
        Assert.That(d.GetMessage(), Does.Contain("retired schema events 0 Shop.Order"));
        var retired = "retired schema events 0 Shop.Order v2\nretired action events Shop.Order archive 419300326\n";
        Assert.That(await Visible(retired, table), Is.Empty);
    }

    [Test]
    public async Task SPEC020_a_locked_or_retired_index_given_to_another_type()
    {
        var other = Order().Replace("class Order", "class Invoice").Replace("Changeset<Order>", "Changeset<Invoice>");
        var table = Table.Replace("typeof(Order)", "typeof(Invoice)");

        var d = (await Visible(Lock, table, other)).Single(x => x.Id == "SPEC020");
        Assert.That(Line(d), Is.EqualTo(4));
        Assert.That(d.GetMessage(), Does.Contain("'Shop.Order' but now lists 'Shop.Invoice'"));
        Assert.That(
            d.GetMessage(),
            Does.Contain("read as 'Shop.Invoice': if 'Shop.Invoice' is 'Shop.Order' renamed"),
            "the remedy continues the sentence"
        );

        var retired =
            "retired schema events 0 Shop.Order v2\n"
            + "retired action events Shop.Order archive 419300326\n"
            + "action events Shop.Invoice archive 419300326\n";
        Assert.That((await Visible(retired, table, other)).Select(x => x.Id), Does.Contain("SPEC020"));
    }

    [Test]
    public async Task SPEC021_a_version_lowered_below_the_lock()
    {
        var d = (await Visible(Lock, Table, Order("[Evented(Version = 1, Actions = [\"archive\"])]"))).Single(x =>
            x.Id == "SPEC021"
        );

        Assert.That(Line(d), Is.EqualTo(4));
        Assert.That((Column(d), Underlined(d)), Is.EqualTo((19, "1")), "at the version to change");
        Assert.That(d.GetMessage(), Does.Contain("Version = 1").And.Contain("version 2"));
    }

    [Test]
    public async Task SPEC024_an_unreadable_lock_line()
    {
        var d = (await Visible(Lock + "schema events zero Shop.Order\n", Table, Order())).Single(x =>
            x.Id == "SPEC024"
        );

        Assert.That(d.Location.GetLineSpan().Path, Does.EndWith("spector.lock"));
        Assert.That(Line(d), Is.EqualTo(4));
    }

    [Test]
    public async Task SPEC023_new_entries_are_reported_and_the_fix_records_them()
    {
        var grown = Order("[Evented(Version = 3, Actions = [\"archive\", \"ship\"])]");
        var project = AnalyzerHarness.Project(Lock, Table, grown);
        var diagnostics = (await AnalyzerHarness.DiagnosticsAsync(project)).Where(d => d.Id == "SPEC023").ToList();
        Assert.That(
            diagnostics.Select(d => d.GetMessage()),
            Has.Some.Contains("Action 'ship'").And.Some.Contains("Version 3")
        );
        Assert.That(diagnostics, Has.All.Matches<Diagnostic>(d => d.Severity == DiagnosticSeverity.Warning));

        var fixedSolution = await AnalyzerHarness.ApplyAsync(
            project,
            new LockFileFix(),
            diagnostics[0],
            "Record the new entries in spector.lock"
        );
        var fixedProject = fixedSolution.GetProject(project.Id)!;
        var text = (await fixedProject.AdditionalDocuments.Single().GetTextAsync()).ToString();
        Assert.That(
            text,
            Does.Contain("schema events 0 Shop.Order v3")
                .And.Contain("action events Shop.Order ship ")
                .And.Contain("action events Shop.Order archive 419300326")
        );
        Assert.That(
            (await AnalyzerHarness.DiagnosticsAsync(fixedProject)).Where(d => d.Severity > DiagnosticSeverity.Hidden),
            Is.Empty
        );
    }

    [Test]
    public async Task Fix_SPEC001_adds_the_next_free_schema_index()
    {
        var orphan = Order().Replace("class Order", "class Refund").Replace("Changeset<Order>", "Changeset<Refund>");
        var project = AnalyzerHarness.Project(null, Table, Order(), orphan);
        var d = (await AnalyzerHarness.DiagnosticsAsync(project)).Single(x => x.Id == "SPEC001");

        var solution = await AnalyzerHarness.ApplyAsync(
            project,
            new AddEventSchemaFix(),
            d,
            "Add [EventSchema(typeof(Refund), 1)] to 'ShopEvents'"
        );

        var table = (await solution.GetProject(project.Id)!.Documents.First().GetTextAsync()).ToString();
        Assert.That(table, Does.Contain("EventSchema(typeof(Refund), 1)"));
        var after = await AnalyzerHarness.DiagnosticsAsync(solution.GetProject(project.Id)!);
        Assert.That(after.Where(x => x.Severity == DiagnosticSeverity.Error), Is.Empty);
    }

    [Test]
    public async Task Fix_SPEC005_makes_the_type_and_its_containers_partial()
    {
        var nested = """
            using System;
            using Spector;
            namespace Shop;
            public class Outer
            {
                [Evented]
                public class Order
                {
                    public Guid Id { get; set; }
                    static void Changeset(Changeset<Order> c) { }
                }
            }
            """;
        var table = Table.Replace("typeof(Order)", "typeof(Outer.Order)");
        var project = AnalyzerHarness.Project(null, table, nested);
        var d = (await AnalyzerHarness.DiagnosticsAsync(project)).First(x => x.Id == "SPEC005");

        var solution = await AnalyzerHarness.ApplyAsync(project, new MakePartialFix(), d, "Make 'Order' partial");

        var text = (await solution.GetProject(project.Id)!.Documents.Last().GetTextAsync()).ToString();
        Assert.That(text, Does.Contain("public partial class Outer").And.Contain("public partial class Order"));
        Assert.That(
            (await AnalyzerHarness.DiagnosticsAsync(solution.GetProject(project.Id)!)).Where(x =>
                x.Severity == DiagnosticSeverity.Error
            ),
            Is.Empty
        );
    }

    [Test]
    public async Task Fix_SPEC006_and_SPEC025_add_handler_stubs_that_compile()
    {
        var source = """
            using System;
            using Spector;
            namespace Shop;
            [Evented(Actions = ["mark_paid"])]
            public partial class Order
            {
                public Guid Id { get; set; }
            }
            """;
        var project = AnalyzerHarness.Project(null, Table, source);
        var missing = (await AnalyzerHarness.DiagnosticsAsync(project)).Single(x => x.Id == "SPEC006");
        var solution = await AnalyzerHarness.ApplyAsync(
            project,
            new AddHandlerFix(),
            missing,
            "Add the default handler 'Changeset(Changeset<Order> c)'"
        );
        project = solution.GetProject(project.Id)!;

        var hint = (await AnalyzerHarness.DiagnosticsAsync(project)).Single(x => x.Id == "SPEC025");
        Assert.That(hint.Severity, Is.EqualTo(DiagnosticSeverity.Hidden));
        Assert.That(hint.GetMessage(), Does.Contain("'mark_paid'"));
        solution = await AnalyzerHarness.ApplyAsync(
            project,
            new AddHandlerFix(),
            hint,
            "Add a typed handler for action 'mark_paid'"
        );
        project = solution.GetProject(project.Id)!;

        var text = (await project.Documents.Last().GetTextAsync()).ToString();
        // Simplified against the file's usings, as hand-written code would be.
        Assert.That(
            text,
            Does.Contain("static void Changeset(Changeset<Order> c)")
                .And.Contain("[OnAction(\"mark_paid\")]")
                .And.Contain("static void MarkPaid(Changeset<Order> c)")
        );
        var after = await AnalyzerHarness.DiagnosticsAsync(project);
        Assert.That(
            after.Select(d => d.Id),
            Is.EqualTo(new[] { "SPEC041" }),
            "only the request for a lock file is left"
        );
        var compilation = (await project.GetCompilationAsync())!;
        GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        Assert.That(output.GetDiagnostics().Where(x => x.Severity == DiagnosticSeverity.Error), Is.Empty);
        Assert.That(output.SyntaxTrees.Any(t => t.ToString().Contains("MarkPaidAsync(")), Is.True);
    }
}
