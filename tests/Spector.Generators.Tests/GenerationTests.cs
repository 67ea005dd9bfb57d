namespace Spector.Generators.Tests;

public sealed class GenerationTests
{
    [Test]
    public void A_valid_model_generates_one_file_per_type_and_compiles_without_errors()
    {
        var result = GeneratorHarness.Run(Sources.EventsTable, Sources.Order, Sources.Cart);

        Assert.That(result.GeneratorDiagnostics, Is.Empty);
        Assert.That(result.CompilationErrors, Is.Empty, string.Join("\n", result.CompilationErrors));
        Assert.That(result.Sources.Keys, Is.EquivalentTo(new[]
        {
            "Shop.ShopEvents.SpectorEvents.g.cs", "Shop.Order.Spector.g.cs", "Shop.Cart.Spector.g.cs",
        }));
    }

    [TestCase("Shop.Order.Spector.g.cs")]
    [TestCase("Shop.Cart.Spector.g.cs")]
    [TestCase("Shop.ShopEvents.SpectorEvents.g.cs")]
    public void Generated_source_matches_its_snapshot(string hintName)
    {
        var result = GeneratorHarness.Run(Sources.EventsTable, Sources.Order, Sources.Cart);

        Snapshot.Verify(result.Sources[hintName], hintName, nameof(GenerationTests), test: "Generated_source");
    }

    [Test]
    public void Record_table_sql_is_written_at_compile_time_with_quoted_snake_case_columns()
    {
        var order = GeneratorHarness.Run(Sources.EventsTable, Sources.Order, Sources.Cart).Sources["Shop.Order.Spector.g.cs"];

        Assert.That(order, Does.Contain("INSERT INTO \\\"orders\\\" (\\\"id\\\", \\\"customer\\\", \\\"note\\\", \\\"total\\\", \\\"items\\\", \\\"state\\\", \\\"paid\\\", \\\"inserted_at\\\")"));
        Assert.That(order, Does.Contain("ON CONFLICT (\\\"id\\\") DO UPDATE SET"));
        Assert.That(order, Does.Contain("\\\"total\\\" numeric NOT NULL"));
        Assert.That(order, Does.Contain("\\\"note\\\" text NULL"));
        Assert.That(order, Does.Not.Contain("\\\"lines\\\""), "[NotMapped]");
        Assert.That(order, Does.Contain("case \"paid_at\": record.PaidAt = global::Spector.AttrConvert.ToNullableDateTimeOffset(value); return true;"));
    }

    [Test]
    public void Types_in_the_global_namespace_and_nested_in_partial_classes_are_supported()
    {
        var result = GeneratorHarness.Run("""
            using System;
            using Spector;

            [EventsTable("audit")]
            [EventSchema(typeof(Outer.Inner), 3)]
            public partial class AuditEvents;

            public partial class Outer
            {
                [Evented]
                public partial class Inner
                {
                    public Guid Id { get; set; }
                    static void Changeset(Changeset<Inner> c) { }
                }
            }
            """);

        Assert.That(result.GeneratorDiagnostics, Is.Empty);
        Assert.That(result.CompilationErrors, Is.Empty, string.Join("\n", result.CompilationErrors));
        Assert.That(result.Sources.Keys, Does.Contain("Outer.Inner.Spector.g.cs"));
    }
}
