namespace Spector.Generators.Tests;

public sealed class GenerationTests
{
    [Test]
    public void A_valid_model_generates_one_file_per_type_and_compiles_without_errors()
    {
        var result = GeneratorHarness.Run(Sources.EventsTable, Sources.Order, Sources.Cart);

        Assert.That(result.GeneratorDiagnostics, Is.Empty);
        Assert.That(result.CompilationErrors, Is.Empty, string.Join("\n", result.CompilationErrors));
        Assert.That(
            result.Sources.Keys,
            Is.EquivalentTo(
                new[] { "Shop.ShopEvents.SpectorEvents.g.cs", "Shop.Order.Spector.g.cs", "Shop.Cart.Spector.g.cs" }
            )
        );
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
        var order = Squashed.Of(
            GeneratorHarness.Run(Sources.EventsTable, Sources.Order, Sources.Cart).Sources["Shop.Order.Spector.g.cs"]
        );

        Assert.That(
            order,
            Does.Contain(
                Squashed.Of(
                    "INSERT INTO \\\"orders\\\" (\\\"id\\\", \\\"customer\\\", \\\"note\\\", \\\"total\\\", "
                        + "\\\"items\\\", \\\"state\\\", \\\"paid\\\", \\\"inserted_at\\\")"
                )
            )
        );
        Assert.That(order, Does.Contain(Squashed.Of("ON CONFLICT (\\\"id\\\") DO UPDATE SET")));
        Assert.That(order, Does.Contain(Squashed.Of("\\\"total\\\" numeric NOT NULL")));
        Assert.That(order, Does.Contain(Squashed.Of("\\\"note\\\" text NULL")));
        Assert.That(order, Does.Not.Contain("\\\"lines\\\""), "[NotMapped]");
        Assert.That(
            order,
            Does.Contain(
                Squashed.Of(
                    "case \"paid_at\": record.PaidAt = global::Spector.AttrConvert.ToNullableDateTimeOffset(value); "
                        + "return true;"
                )
            )
        );
    }

    [Test]
    public void Action_codes_computed_at_compile_time_match_the_runtime_algorithm()
    {
        var events = GeneratorHarness.Run(Sources.EventsTable, Sources.Order, Sources.Cart).Sources[
            "Shop.ShopEvents.SpectorEvents.g.cs"
        ];

        Assert.That(
            events,
            Does.Contain($"new global::Spector.EventActionInfo({ActionCodes.For("settle")}, \"pay\")"),
            "alias keeps the old code"
        );
        Assert.That(
            events,
            Does.Contain($"new global::Spector.EventActionInfo({ActionCodes.For("cancel")}, \"cancel\")")
        );
        // Pinned values: changing the algorithm would orphan every stored custom event.
        Assert.That(ActionCodes.For("archive"), Is.EqualTo(ExpectedArchiveCode));
        Assert.That(ActionCodes.For("archive"), Is.EqualTo(Spector.Generators.Model.ActionCode.For("archive")));
        Assert.That(ActionCodes.For("ä-ü"), Is.EqualTo(Spector.Generators.Model.ActionCode.For("ä-ü")));
    }

    // Computed independently: 16 + FNV-1a-32("archive") mod (2^31 - 17).
    private const int ExpectedArchiveCode = 419300326;

    [Test]
    public void Typed_actions_take_the_handlers_parameters_and_dispatch_picks_one_handler_per_version()
    {
        var order = Squashed.Of(
            GeneratorHarness.Run(Sources.EventsTable, Sources.Order, Sources.Cart).Sources["Shop.Order.Spector.g.cs"]
        );

        Assert.That(
            order,
            Does.Contain(
                Squashed.Of(
                    "PayAsync(decimal amount, global::Shop.OrderState state, string[] receipt, "
                        + "global::Spector.WriteOptions? options = null, "
                        + "global::System.Threading.CancellationToken cancellationToken = default)"
                )
            )
        );
        Assert.That(
            order,
            Does.Contain(
                Squashed.Of(
                    "CancelAsync(global::Spector.Attrs attrs, global::Spector.WriteOptions? options = null, "
                        + "global::System.Threading.CancellationToken cancellationToken = default)"
                )
            )
        );
        Assert.That(
            order,
            Does.Contain(
                Squashed.Of(
                    "[\"amount\"] = (global::System.Text.Json.Nodes.JsonNode?)amount, [\"state\"] = state.ToString()"
                )
            )
        );
        Assert.That(order, Does.Contain(Squashed.Of("if (changeset.Version is >= 0 and <= 1)")));
        Assert.That(
            order,
            Does.Contain(
                Squashed.Of(
                    "global::Shop.Order.Pay(changeset, "
                        + "changeset.Param(\"amount\", global::Spector.AttrConvert.ToDecimal)"
                )
            )
        );
        // The unversioned handler covers every version the versioned one leaves: no guard on the current version.
        Assert.That(order, Does.Not.Contain(Squashed.Of("changeset.Version == 2")));
    }

    [Test]
    public void Only_types_with_a_table_get_materialize_and_bring_up()
    {
        var result = GeneratorHarness.Run(Sources.EventsTable, Sources.Order, Sources.Cart);

        Assert.That(
            result.Sources["Shop.Order.Spector.g.cs"],
            Does.Contain("MaterializeAsync(").And.Contain("BringUpAsync(")
        );
        // An embedded type has no row: calling either is a compile error, not a run-time surprise.
        Assert.That(
            result.Sources["Shop.Cart.Spector.g.cs"],
            Does.Not.Contain("MaterializeAsync(").And.Not.Contain("BringUpAsync(")
        );
    }

    [Test]
    public void Types_in_the_global_namespace_and_nested_in_partial_classes_are_supported()
    {
        var result = GeneratorHarness.Run(
            """
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
            """
        );

        Assert.That(result.GeneratorDiagnostics, Is.Empty);
        Assert.That(result.CompilationErrors, Is.Empty, string.Join("\n", result.CompilationErrors));
        Assert.That(result.Sources.Keys, Does.Contain("Outer.Inner.Spector.g.cs"));
    }

    [Test]
    public void A_sharded_events_table_passes_its_shards_and_route_to_the_runtime()
    {
        var result = GeneratorHarness.Run(
            """
            using System;
            using Spector;
            namespace Chat;
            [EventsTable("messages", Shards = ["messages_0", "messages_1"], ShardBy = nameof(Route), Hashed = true)]
            [EventSchema(typeof(Message), 1)]
            [EventLink("edits", "edits", "previous_id")]
            public static partial class MessageEvents
            {
                private static string Route(Guid recordId) =>
                    recordId.ToByteArray()[15] % 2 == 0 ? "messages_0" : "messages_1";
            }
            [Evented]
            public partial class Message
            {
                public Guid Id { get; set; }
                public string Text { get; set; } = "";
                static void Changeset(Changeset<Message> c) => c.Cast("text");
            }
            """
        );

        Assert.That(result.GeneratorDiagnostics, Is.Empty);
        Assert.That(result.CompilationErrors, Is.Empty, string.Join("\n", result.CompilationErrors));
        var events = result.Sources["Chat.MessageEvents.SpectorEvents.g.cs"];
        Assert.That(
            events,
            Does.Contain("shards: new string[] { \"messages_0\", \"messages_1\" },").And.Contain("route: Route);")
        );
    }

    [Test]
    public void A_table_with_per_record_chains_passes_its_hash_scope_to_the_runtime()
    {
        var result = GeneratorHarness.Run(
            """
            using System;
            using Spector;
            namespace Shop;
            [EventsTable("receipts", Hashed = true, HashScope = HashScope.Record)]
            [EventSchema(typeof(Receipt), 0)]
            public static partial class ReceiptEvents;
            [Evented]
            public partial class Receipt
            {
                public Guid Id { get; set; }
                public decimal Total { get; set; }
                static void Changeset(Changeset<Receipt> c) => c.Cast("total");
            }
            """
        );

        Assert.That(result.GeneratorDiagnostics, Is.Empty);
        Assert.That(result.CompilationErrors, Is.Empty, string.Join("\n", result.CompilationErrors));
        var events = result.Sources["Shop.ReceiptEvents.SpectorEvents.g.cs"];
        Assert.That(events, Does.Contain("hashed: true,").And.Contain("hashScope: global::Spector.HashScope.Record);"));
    }
}
