using Microsoft.CodeAnalysis;
using Spector.CodeFixes;

namespace Spector.Generators.Tests;

/// <summary>
/// The lock keyed by (type, action), the exact text its messages suggest, and the code fixes for SPEC019-023, SPEC040
/// and SPEC041, including fix all. Every fix is applied to a real workspace and the project analyzed again.
/// </summary>
public sealed class SchemaLockFixTests
{
    private const string Table = """
        using Spector;
        namespace Shop;
        [EventsTable("events")]
        [EventSchema(typeof(Order), 0)]
        [EventSchema(typeof(Cart), 1)]
        public partial class ShopEvents;
        """;

    private static string Type(string name, string actions, int version = 1) =>
        $$"""
            using System;
            using Spector;
            namespace Shop;
            [Evented(Version = {{version}}, Actions = [{{actions}}])]
            public partial class {{name}}
            {
                public Guid Id { get; set; }
                static void Changeset(Changeset<{{name}}> c) { }
            }
            """;

    private static readonly int Archive = ActionCodes.For("archive");

    private static readonly string Lock = $"""
        schema events 0 Shop.Order v1
        schema events 1 Shop.Cart v1
        action events Shop.Cart archive {Archive}
        action events Shop.Order archive {Archive}

        """;

    private static async Task<Diagnostic[]> Visible(Project project) =>
        (await AnalyzerHarness.DiagnosticsAsync(project)).Where(d => d.Severity > DiagnosticSeverity.Hidden).ToArray();

    private static int Line(Diagnostic d) => d.Location.GetLineSpan().StartLinePosition.Line + 1;

    [Test]
    public async Task A_lock_written_in_todays_format_is_read_unchanged()
    {
        var project = AnalyzerHarness.Project(Lock, Table, Type("Order", "\"archive\""), Type("Cart", "\"archive\""));
        Assert.That(await Visible(project), Is.Empty);
    }

    [Test]
    public async Task Renaming_one_types_action_is_an_error_while_another_type_keeps_the_name()
    {
        // Order renames archive to close; Cart still declares archive. The table still has the code; Order does not.
        var project = AnalyzerHarness.Project(Lock, Table, Type("Order", "\"close\""), Type("Cart", "\"archive\""));

        var d = (await Visible(project)).Single(x => x.Id == "SPEC022");

        Assert.That(d.Severity, Is.EqualTo(DiagnosticSeverity.Error));
        Assert.That(d.Location.GetLineSpan().Path, Does.EndWith("Source1.cs"));
        Assert.That(Line(d), Is.EqualTo(4), "at Order's [Evented]");
        Assert.That(
            d.GetMessage(),
            Does.Contain("'Shop.Cart' still declares 'archive'")
                .And.Contain($"'retired action events Shop.Order archive {Archive}'")
                .And.Not.Contain("ActionAlias"),
            "an alias of a name another type keeps would be SPEC011"
        );

        // The retire fix writes exactly the line the message gives; the lock then holds and only 'close' is new.
        var solution = await AnalyzerHarness.ApplyAsync(
            project,
            new LockFileFix(),
            d,
            $"Retire 'action events Shop.Order archive {Archive}' in spector.lock"
        );
        var fixedProject = solution.GetProject(project.Id)!;
        Assert.That(
            await AnalyzerHarness.LockTextAsync(fixedProject),
            Does.Contain($"\nretired action events Shop.Order archive {Archive}\n")
                .And.Contain($"\naction events Shop.Cart archive {Archive}\n")
        );
        Assert.That((await Visible(fixedProject)).Select(x => x.Id), Is.EqualTo(new[] { "SPEC023" }));
    }

    [Test]
    public async Task SPEC022_alias_fix_keeps_the_stored_code()
    {
        var table = Table.Replace("[EventSchema(typeof(Cart), 1)]\n", "");
        var lockFile = $"schema events 0 Shop.Order v1\naction events Shop.Order archive {Archive}\n";
        var project = AnalyzerHarness.Project(lockFile, table, Type("Order", "\"close\", \"ship\""));
        var d = (await Visible(project)).Single(x => x.Id == "SPEC022");
        Assert.That(d.GetMessage(), Does.Contain("[ActionAlias(\"<new name>\", \"archive\")] to 'ShopEvents'"));

        var solution = await AnalyzerHarness.ApplyAsync(
            project,
            new LockedSchemaSourceFix(),
            d,
            "Add [ActionAlias(\"close\", \"archive\")] to 'ShopEvents'"
        );
        project = solution.GetProject(project.Id)!;

        Assert.That(
            (await project.Documents.First().GetTextAsync()).ToString(),
            Does.Contain("[ActionAlias(\"close\", \"archive\")]")
        );
        var after = await Visible(project);
        Assert.That(after.Select(x => x.Id), Has.None.EqualTo("SPEC022").And.None.EqualTo("SPEC011"));
        // The new name is recorded under the old code: the exact line SPEC023 prints.
        Assert.That(
            after.Select(x => x.GetMessage()),
            Has.Some.Contains($"'action events Shop.Order close {Archive}'")
        );
    }

    [Test]
    public async Task SPEC019_suggests_a_line_that_is_valid_and_its_fix_retires_the_type_with_its_actions()
    {
        var table = Table.Replace("[EventSchema(typeof(Order), 0)]\n", "");
        var project = AnalyzerHarness.Project(Lock, table, Type("Cart", "\"archive\""));
        var d = (await Visible(project)).Single(x => x.Id == "SPEC019");
        var suggested = System
            .Text.RegularExpressions.Regex.Match(d.GetMessage(), "'(retired schema [^']*)'")
            .Groups[1]
            .Value;
        Assert.That(suggested, Is.EqualTo("retired schema events 0 Shop.Order v1"));

        // Pasted by hand, the suggested line is read (no SPEC024) and settles the schema.
        var pasted = AnalyzerHarness.Project(
            Lock.Replace("schema events 0 Shop.Order v1", suggested),
            table,
            Type("Cart", "\"archive\"")
        );
        Assert.That((await Visible(pasted)).Select(x => x.Id), Is.Empty);

        var solution = await AnalyzerHarness.ApplyAsync(
            project,
            new LockFileFix(),
            d,
            "Retire 'schema events 0 Shop.Order v1' in spector.lock"
        );
        var text = await AnalyzerHarness.LockTextAsync(solution.GetProject(project.Id)!);
        Assert.That(
            text,
            Does.Contain("retired schema events 0 Shop.Order v1")
                .And.Contain($"retired action events Shop.Order archive {Archive}")
        );
        Assert.That(await Visible(solution.GetProject(project.Id)!), Is.Empty);
    }

    [Test]
    public async Task SPEC019_put_back_fix_lists_the_type_again()
    {
        var table = Table.Replace("[EventSchema(typeof(Order), 0)]\n", "");
        var project = AnalyzerHarness.Project(Lock, table, Type("Order", "\"archive\""), Type("Cart", "\"archive\""));
        var d = (await Visible(project)).First(x => x.Id == "SPEC019");

        var solution = await AnalyzerHarness.ApplyAsync(
            project,
            new LockedSchemaSourceFix(),
            d,
            "Put back [EventSchema(typeof(Order), 0)]"
        );

        Assert.That(await Visible(solution.GetProject(project.Id)!), Is.Empty);
    }

    [Test]
    public async Task SPEC020_fixes_record_a_renamed_type_or_move_the_new_type_to_a_free_index()
    {
        var table = Table.Replace("typeof(Order)", "typeof(Invoice)");
        var project = AnalyzerHarness.Project(Lock, table, Type("Invoice", "\"archive\""), Type("Cart", "\"archive\""));
        var d = (await Visible(project)).Single(x => x.Id == "SPEC020");
        Assert.That(d.GetMessage(), Does.Contain("(2 is free)"));

        var renamed = await AnalyzerHarness.ApplyAsync(
            project,
            new LockFileFix(),
            d,
            "Record 'Shop.Invoice' as 'Shop.Order' renamed in spector.lock"
        );
        var renamedProject = renamed.GetProject(project.Id)!;
        Assert.That(
            await AnalyzerHarness.LockTextAsync(renamedProject),
            Does.Contain("schema events 0 Shop.Invoice v1")
                .And.Contain($"action events Shop.Invoice archive {Archive}")
                .And.Not.Contain("Shop.Order")
        );
        Assert.That(await Visible(renamedProject), Is.Empty);

        var moved = await AnalyzerHarness.ApplyAsync(
            project,
            new LockedSchemaSourceFix(),
            d,
            "Use the free schema index 2"
        );
        var movedProject = moved.GetProject(project.Id)!;
        Assert.That(
            (await movedProject.Documents.First().GetTextAsync()).ToString(),
            Does.Contain("[EventSchema(typeof(Invoice), 2)]")
        );
        Assert.That(
            (await Visible(movedProject)).Select(x => x.Id),
            Has.None.EqualTo("SPEC020").And.Some.EqualTo("SPEC019")
        );
    }

    [Test]
    public async Task SPEC021_fix_restores_the_locked_version()
    {
        var lockFile = Lock.Replace("Shop.Order v1", "Shop.Order v3");
        var project = AnalyzerHarness.Project(
            lockFile,
            Table,
            Type("Order", "\"archive\"", version: 2),
            Type("Cart", "\"archive\"")
        );
        var d = (await Visible(project)).Single(x => x.Id == "SPEC021");

        var solution = await AnalyzerHarness.ApplyAsync(project, new LockedSchemaSourceFix(), d, "Set Version = 3");

        var fixedProject = solution.GetProject(project.Id)!;
        Assert.That((await fixedProject.Documents.ElementAt(1).GetTextAsync()).ToString(), Does.Contain("Version = 3"));
        Assert.That(await Visible(fixedProject), Is.Empty);
    }

    [Test]
    public async Task SPEC023_prints_the_exact_line_and_fix_all_adds_every_line_in_one_rewrite()
    {
        var project = AnalyzerHarness.Project(
            Lock,
            Table,
            Type("Order", "\"archive\", \"mark_paid\"", version: 2),
            Type("Cart", "\"archive\", \"empty\"")
        );
        var warnings = (await Visible(project)).Where(x => x.Id == "SPEC023").ToList();
        var markPaid = ActionCodes.For("mark_paid");
        Assert.That(
            warnings.Select(w => w.GetMessage()),
            Has.Some.Contains($"add the line 'action events Shop.Order mark_paid {markPaid}'")
                .And.Some.Contains("add the line 'schema events 0 Shop.Order v2'")
                .And.Some.Contains($"add the line 'action events Shop.Cart empty {ActionCodes.For("empty")}'")
        );
        Assert.That(warnings, Has.Count.EqualTo(3));

        var solution = await AnalyzerHarness.FixAllAsync(
            project,
            new LockFileFix(),
            warnings[0],
            $"Add '{warnings[0].Properties["SpectorLockLines"]}' to spector.lock"
        );

        var fixedProject = solution.GetProject(project.Id)!;
        Assert.That(await Visible(fixedProject), Is.Empty);
        Assert.That(
            await AnalyzerHarness.LockTextAsync(fixedProject),
            Does.Contain("schema events 0 Shop.Order v2\n").And.Not.Contain("Shop.Order v1")
        );
    }

    [Test]
    public async Task Renaming_the_events_table_names_the_locked_table_not_a_schema_to_put_back()
    {
        var project = AnalyzerHarness.Project(
            Lock,
            Table.Replace("[EventsTable(\"events\")]", "[EventsTable(\"shop_events\")]"),
            Type("Order", "\"archive\""),
            Type("Cart", "\"archive\"")
        );

        var errors = (await Visible(project)).Where(x => x.Severity == DiagnosticSeverity.Error).ToList();

        var d = errors.Single();
        Assert.That(d.Id, Is.EqualTo("SPEC040"));
        Assert.That(d.Location.GetLineSpan().Path, Does.EndWith("spector.lock"));
        Assert.That(Line(d), Is.EqualTo(1));
        Assert.That(
            d.GetMessage(),
            Does.Contain("Events table 'events' has 4 live spector.lock lines")
                .And.Contain("put back [EventsTable(\"events\")]")
                .And.Not.Contain("EventSchema")
        );
    }

    [Test]
    public async Task SPEC041_no_lock_file_and_the_fix_creates_it()
    {
        var project = AnalyzerHarness.Project(null, Table, Type("Order", "\"archive\""), Type("Cart", "\"archive\""));
        var d = (await Visible(project)).Single();
        Assert.That(d.Id, Is.EqualTo("SPEC041"));
        Assert.That(d.Severity, Is.EqualTo(DiagnosticSeverity.Warning));
        Assert.That(
            (d.Location.GetLineSpan().Path, Line(d)),
            Is.EqualTo(("/project/Source0.cs", 3)),
            "at the [EventsTable] attribute"
        );
        Assert.That(d.GetMessage(), Does.Contain("dotnet build -t:SpectorLock"));

        var solution = await AnalyzerHarness.ApplyAsync(
            project,
            new LockFileFix(),
            d,
            "Create spector.lock from the source"
        );

        var created = solution.GetProject(project.Id)!;
        Assert.That(
            await AnalyzerHarness.LockTextAsync(created),
            Is.EqualTo(
                "# Spector schema lock: every schema index, action code and version shipped. Commit it; "
                    + "see docs/schema-lock.md.\n"
                    + "schema events 0 Shop.Order v1\nschema events 1 Shop.Cart v1\n"
                    + $"action events Shop.Cart archive {Archive}\naction events Shop.Order archive {Archive}\n"
            )
        );
        Assert.That(await Visible(created), Is.Empty);
    }

    [Test]
    public async Task Fix_all_SPEC001_lists_every_orphan_under_consecutive_free_indexes()
    {
        var project = AnalyzerHarness.Project(
            Lock.Replace("schema events 1 Shop.Cart v1", "retired schema events 1 Shop.Cart v1"),
            Table.Replace("[EventSchema(typeof(Cart), 1)]\n", ""),
            Type("Order", "\"archive\""),
            Type("Refund", ""),
            Type("Coupon", "")
        );
        var orphans = (await AnalyzerHarness.DiagnosticsAsync(project)).Where(x => x.Id == "SPEC001").ToList();
        Assert.That(orphans, Has.Count.EqualTo(2));
        var orphan = orphans[0].GetMessage().Contains("Refund") ? "Refund" : "Coupon";

        var solution = await AnalyzerHarness.FixAllAsync(
            project,
            new AddEventSchemaFix(),
            orphans[0],
            $"Add [EventSchema(typeof({orphan}), 2)] to 'ShopEvents'"
        );

        var table = (await solution.GetProject(project.Id)!.Documents.First().GetTextAsync()).ToString();
        // Index 1 is retired in the lock: never handed out again.
        Assert.That(table, Does.Contain("typeof(Refund), 2)").Or.Contain("typeof(Refund), 3)"));
        Assert.That(table, Does.Contain("typeof(Coupon), 2)").Or.Contain("typeof(Coupon), 3)"));
        var errors = (await AnalyzerHarness.DiagnosticsAsync(solution.GetProject(project.Id)!)).Where(x =>
            x.Severity == DiagnosticSeverity.Error
        );
        Assert.That(errors, Is.Empty);
    }

    [Test]
    public async Task Fix_all_SPEC025_adds_every_typed_handler_of_a_type()
    {
        var project = AnalyzerHarness.Project(
            null,
            Table.Replace("[EventSchema(typeof(Cart), 1)]\n", ""),
            Type("Order", "\"archive\", \"mark_paid\"")
        );
        var hints = (await AnalyzerHarness.DiagnosticsAsync(project)).Where(x => x.Id == "SPEC025").ToList();
        Assert.That(hints, Has.Count.EqualTo(2));

        var solution = await AnalyzerHarness.FixAllAsync(
            project,
            new AddHandlerFix(),
            hints[0],
            hints[0].GetMessage().Contains("'archive'")
                ? "Add a typed handler for action 'archive'"
                : "Add a typed handler for action 'mark_paid'"
        );

        var fixedProject = solution.GetProject(project.Id)!;
        var text = (await fixedProject.Documents.Last().GetTextAsync()).ToString();
        Assert.That(text, Does.Contain("static void Archive(").And.Contain("static void MarkPaid("));
        Assert.That((await AnalyzerHarness.DiagnosticsAsync(fixedProject)).Where(x => x.Id == "SPEC025"), Is.Empty);
        var compilation = (await fixedProject.GetCompilationAsync())!;
        GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        Assert.That(output.GetDiagnostics().Where(x => x.Severity == DiagnosticSeverity.Error), Is.Empty);
    }

    [Test]
    public async Task Fix_all_SPEC006_adds_the_default_handler_to_every_type_of_a_file()
    {
        var types = """
            using System;
            using Spector;
            namespace Shop;
            [Evented] public partial class Order { public Guid Id { get; set; } }
            [Evented] public partial class Cart { public Guid Id { get; set; } }
            """;
        var project = AnalyzerHarness.Project(null, Table, types);
        var missing = (await AnalyzerHarness.DiagnosticsAsync(project)).Where(x => x.Id == "SPEC006").ToList();
        Assert.That(missing, Has.Count.EqualTo(2));

        var title = missing[0].GetMessage().Contains("'Order'")
            ? "Add the default handler 'Changeset(Changeset<Order> c)'"
            : "Add the default handler 'Changeset(Changeset<Cart> c)'";
        var solution = await AnalyzerHarness.FixAllAsync(project, new AddHandlerFix(), missing[0], title);

        var fixedProject = solution.GetProject(project.Id)!;
        var text = (await fixedProject.Documents.Last().GetTextAsync()).ToString();
        Assert.That(
            text,
            Does.Contain("static void Changeset(Changeset<Order> c)")
                .And.Contain("static void Changeset(Changeset<Cart> c)")
        );
        Assert.That(
            (await AnalyzerHarness.DiagnosticsAsync(fixedProject)).Where(x => x.Severity == DiagnosticSeverity.Error),
            Is.Empty
        );
    }
}
