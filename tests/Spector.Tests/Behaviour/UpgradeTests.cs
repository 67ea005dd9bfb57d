using Dapper;
using static Spector.Tests.CompiledModel;

namespace Spector.Tests;

/// <summary>
/// An upgrading user's view: a log written by one build of a model is replayed by the next build of the same
/// classes (both compiled here by the real generator), on a real SQLite file and on PostgreSQL. Changing the
/// code must never change what stored history means unless a handler says so.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class UpgradeTests(Db db) : DatabaseTest(db)
{
    private const string Account = "Upgrade.Account";
    private const string Events = "Upgrade.UpgradeEvents";

    private const string Freeze = """
            [OnAction("freeze")]
            static void Freeze(Changeset<Account> c, string reason)
            {
                c.Record.FrozenBecause = reason;
                c.Record.Freezes++;
                c.Record.Handled += $"freeze:v{c.Version};";
            }
        """;

    private static readonly string Version1 = Model(1, Freeze);

    // NUnit keeps one fixture instance for all its tests: the first build loaded by each test starts the tables afresh.
    private bool _migrated;

    [SetUp]
    public void StartOnEmptyTables() => _migrated = false;

    [Test]
    public async Task Raising_Version_alone_replays_a_typed_action_exactly_as_before()
    {
        using var before = await LoadAsync("V1", Version1);
        using var after = await LoadAsync("V2", Model(2, Freeze));
        var id = await WriteFrozenAccountAsync(before);

        var replayed = (await after.CallAsync(Account, "GetAsync", id))!;

        Assert.That(Get(replayed, "FrozenBecause"), Is.EqualTo("audit"));
        Assert.That(Get(replayed, "Freezes"), Is.EqualTo(1));
        Assert.That(
            Get(replayed, "Handled"),
            Is.EqualTo("default:v1;freeze:v1;"),
            "the typed handler, not the default one"
        );

        // The next write replays the same way, so the row keeps the freeze instead of losing it.
        var updated = (await CallAsync(replayed, "UpdateAsync", new Attrs { ["owner"] = "bob" }))!;
        Assert.That(Get(updated, "Handled"), Is.EqualTo("default:v1;freeze:v1;default:v2;"));
        await using var connection = await OpenAsync();
        var row = await connection.QuerySingleAsync<(string Owner, string? FrozenBecause, int Freezes)>(
            "SELECT \"owner\", \"frozen_because\", \"freezes\" FROM \"upgrade_accounts\""
        );
        Assert.That(row, Is.EqualTo(("bob", (string?)"audit", 1)));
        var chain = await after.Log(Events).VerifyHashChainAsync();
        Assert.That(chain.IsValid, Is.True, chain.FirstBreak?.ToString());
        Assert.That(chain.EventsChecked, Is.EqualTo(3));
    }

    [Test]
    public async Task An_explicit_upcaster_takes_over_its_version_and_the_unversioned_handler_keeps_the_new_events()
    {
        using var before = await LoadAsync("V1", Version1);
        using var after = await LoadAsync(
            "V2Upcast",
            Model(
                2,
                """
                    [OnAction("freeze")]
                    static void Freeze(Changeset<Account> c, string reason, string by)
                    {
                        c.Record.FrozenBecause = reason;
                        c.Record.FrozenBy = by;
                        c.Record.Freezes++;
                        c.Record.Handled += $"freeze:v{c.Version};";
                    }

                    [OnAction("freeze"), VersionIs(1)]
                    static void FreezeV1(Changeset<Account> c, string reason)
                    {
                        c.Record.FrozenBecause = reason;
                        c.Record.FrozenBy = "(before v2)";
                        c.Record.Freezes++;
                        c.Record.Handled += "freeze-from-v1;";
                    }
                """
            )
        );
        var id = await WriteFrozenAccountAsync(before);

        var replayed = (await after.CallAsync(Account, "GetAsync", id))!;
        var refrozen = (await CallAsync(replayed, "FreezeAsync", "fraud", "ops"))!;

        Assert.That((Get(replayed, "FrozenBecause"), Get(replayed, "FrozenBy")), Is.EqualTo(("audit", "(before v2)")));
        var latest = (await after.CallAsync(Account, "GetAsync", id))!;
        Assert.That((Get(latest, "FrozenBecause"), Get(latest, "FrozenBy")), Is.EqualTo(("fraud", "ops")));
        Assert.That(Get(latest, "Freezes"), Is.EqualTo(2));
        Assert.That(Get(latest, "Handled"), Is.EqualTo("default:v1;freeze-from-v1;freeze:v2;"));
        Assert.That(Get(refrozen, "Handled"), Is.EqualTo(Get(latest, "Handled")), "writes and replays dispatch alike");
        var atSecond = (await after.CallAsync(Account, "GetAtAsync", id, 2L))!;
        Assert.That(Get(atSecond, "FrozenBy"), Is.EqualTo("(before v2)"));
    }

    [Test]
    public async Task A_moved_property_is_upcast_and_the_old_action_needs_a_handler_that_says_what_it_meant()
    {
        const string upcast = """
                [VersionIs(1)]
                static void FromV1(Changeset<Account> c)
                {
                    c.Attrs.Move("city", "address.city");
                    Changeset(c);
                    c.Record.Handled += "upcast-v1;";
                }
            """;
        const string address = """
                [NotMapped] public Address Address { get; set; } = new();
            """;
        const string cast = "\"owner\", \"address\"";
        var ambiguous = Model(2, Freeze + "\n" + upcast, properties: address, cast: cast);
        var explicitV1 = Model(
            2,
            Freeze
                + "\n"
                + upcast
                + """

                    [OnAction("freeze"), VersionIs(1)]
                    static void FreezeV1(Changeset<Account> c, string reason) => Freeze(c, reason);
                """,
            properties: address,
            cast: cast
        );

        // FromV1 and Freeze could both claim a version 1 freeze: the build says so instead of picking one.
        var errors = Errors(ambiguous);
        Assert.That(errors.Select(e => e.Id), Is.EqualTo(new[] { "SPEC028" }), string.Join("\n", errors));
        Assert.That(errors[0].GetMessage(), Does.Contain("[OnAction(\"freeze\"), VersionIs(1)]"));

        var withCity = Model(
            1,
            Freeze,
            properties: "    public string? City { get; set; }",
            cast: "\"owner\", \"city\""
        );
        using var before = await LoadAsync("V1City", withCity);
        using var after = await LoadAsync("V2Address", explicitV1);
        var id = await WriteFrozenAccountAsync(before, new Attrs { ["owner"] = "ada", ["city"] = "Oslo" });

        var replayed = (await after.CallAsync(Account, "GetAsync", id))!;

        Assert.That(Get(Get(replayed, "Address")!, "City"), Is.EqualTo("Oslo"));
        Assert.That(Get(replayed, "Owner"), Is.EqualTo("ada"));
        Assert.That(Get(replayed, "FrozenBecause"), Is.EqualTo("audit"));
        Assert.That(Get(replayed, "Handled"), Is.EqualTo("default:v1;upcast-v1;freeze:v1;"));
    }

    [Test]
    public async Task A_renamed_action_keeps_replaying_through_its_alias_after_the_upgrade()
    {
        using var before = await LoadAsync("V1", Version1);
        using var after = await LoadAsync(
            "V2Suspend",
            Model(
                2,
                """
                    [OnAction("suspend")]
                    static void Suspend(Changeset<Account> c, string reason)
                    {
                        c.Record.FrozenBecause = reason;
                        c.Record.Freezes++;
                        c.Record.Handled += $"suspend:v{c.Version};";
                    }
                """,
                actions: "\"suspend\"",
                alias: "[ActionAlias(\"suspend\", \"freeze\")]"
            )
        );
        var id = await WriteFrozenAccountAsync(before);

        var replayed = (await after.CallAsync(Account, "GetAsync", id))!;
        await CallAsync(replayed, "SuspendAsync", "fraud");

        Assert.That(Get(replayed, "FrozenBecause"), Is.EqualTo("audit"));
        Assert.That(Get(replayed, "Handled"), Is.EqualTo("default:v1;suspend:v1;"));
        var events = (IReadOnlyList<StoredEvent>)(await after.CallAsync(Account, "AllEventsAsync", id))!;
        Assert.That(events.Select(e => e.Action), Is.EqualTo(new[] { "insert", "suspend", "suspend" }));
        var codes = events.Select(e => e.ActionCode).Distinct();
        Assert.That(
            codes,
            Is.EqualTo(new[] { EventActions.Insert, ActionCodes.For("freeze") }),
            "the alias keeps the stored code"
        );
        var latest = (await after.CallAsync(Account, "GetAsync", id))!;
        Assert.That((Get(latest, "FrozenBecause"), Get(latest, "Freezes")), Is.EqualTo(("fraud", 2)));
    }

    [Test]
    public async Task Events_written_by_a_newer_build_are_refused_by_an_older_one_not_misread()
    {
        using var older = await LoadAsync("V1", Version1);
        using var newer = await LoadAsync("V2", Model(2, Freeze));
        var id = await WriteFrozenAccountAsync(newer);

        var error = Assert.ThrowsAsync<EventReplayException>(() => older.CallAsync(Account, "GetAsync", id));

        Assert.That(error!.Failure, Is.EqualTo(ReplayFailure.NewerVersion));
        Assert.That(error.Seq, Is.EqualTo(1));
        Assert.That(error.RecordId, Is.EqualTo(id));
    }

    /// <summary>Loads a build and points its events table at this test's database, on empty tables.</summary>
    private async Task<CompiledModel> LoadAsync(string name, string source)
    {
        var model = Load("Upgrade" + name, source);
        var log = model.Log(Events);
        log.Use(Log.Store);
        if (Database == Db.Postgres && !_migrated)
            await log.MigrateDownAsync();
        await log.MigrateUpAsync();
        _migrated = true;
        return model;
    }

    private static async Task<Guid> WriteFrozenAccountAsync(CompiledModel model, Attrs? attrs = null)
    {
        var account = (await model.CallAsync(Account, "InsertAsync", attrs ?? new Attrs { ["owner"] = "ada" }))!;
        await CallAsync(account, "FreezeAsync", "audit");
        return (Guid)Get(account, "Id")!;
    }

    /// <summary>One build of the model: the same events table and class at a version, with the given members.</summary>
    private static string Model(
        int version,
        string handlers,
        string actions = "\"freeze\"",
        string alias = "",
        string properties = "",
        string cast = "\"owner\""
    ) =>
        $$"""
            using System;
            using System.ComponentModel.DataAnnotations.Schema;
            using System.Text.Json.Serialization;
            using Spector;

            namespace Upgrade;

            [EventsTable("upgrade_events", Hashed = true)]
            [EventSchema(typeof(Account), 0)]
            {{alias}}
            public partial class UpgradeEvents;

            public sealed class Address
            {
                [JsonPropertyName("city")] public string? City { get; set; }
            }

            [Evented(Version = {{version}}, Table = "upgrade_accounts", Actions = [{{actions}}])]
            public partial class Account
            {
                public Guid Id { get; set; }
                public string Owner { get; set; } = "";
                public string? FrozenBecause { get; set; }
                public string? FrozenBy { get; set; }
                public int Freezes { get; set; }
                public string Handled { get; set; } = "";
            {{properties}}

                static void Changeset(Changeset<Account> c)
                {
                    c.Cast({{cast}});
                    c.Record.Handled += $"default:v{c.Version};";
                }

            {{handlers}}
            }
            """;
}
