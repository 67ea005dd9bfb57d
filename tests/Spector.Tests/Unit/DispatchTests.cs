using System.Reflection;

namespace Spector.Tests;

/// <summary>
/// The generated dispatcher, driven directly: every (action, version) a stored log may hold reaches exactly the
/// handler the rule names (DESIGN 3.2, docs/actions-and-versions.md), with typed parameters bound at every version.
/// </summary>
public sealed class DispatchTests
{
    private const string Source = """
        using System;
        using Spector;

        namespace Dispatch;

        [EventsTable("dispatch_events")]
        [EventSchema(typeof(Upcast), 0)]
        [EventSchema(typeof(Plain), 1)]
        public partial class DispatchEvents;

        [Evented(Version = 3, Actions = ["freeze", "touch", "close"])]
        public partial class Upcast
        {
            public Guid Id { get; set; }
            public string Handled { get; set; } = "";
            static void Changeset(Changeset<Upcast> c) => c.Record.Handled = "default";
            [VersionIs(0)] static void V0(Changeset<Upcast> c) => c.Record.Handled = "v0";
            [VersionIn(1, 2)] static void V1To2(Changeset<Upcast> c) => c.Record.Handled = "v1-2";
            [OnAction("freeze")]
            static void Freeze(Changeset<Upcast> c, string reason) => c.Record.Handled = "freeze " + reason;
            [OnAction("freeze"), VersionIs(0)]
            static void FreezeV0(Changeset<Upcast> c) => c.Record.Handled = "freeze-v0";
            [OnAction("freeze"), VersionIn(1, 2)]
            static void FreezeV1To2(Changeset<Upcast> c, string reason) => c.Record.Handled = "freeze-v1-2 " + reason;
            [OnAction("close"), VersionIs(1)] static void CloseV1(Changeset<Upcast> c) => c.Record.Handled = "close-v1";
        }

        [Evented(Version = 3, Actions = ["freeze"])]
        public partial class Plain
        {
            public Guid Id { get; set; }
            public string Handled { get; set; } = "";
            static void Changeset(Changeset<Plain> c) => c.Record.Handled = "default";
            [OnAction("freeze")]
            static void Freeze(Changeset<Plain> c, string reason) => c.Record.Handled = "freeze " + reason;
            [OnAction("freeze"), VersionIs(1)]
            static void FreezeV1(Changeset<Plain> c) => c.Record.Handled = "freeze-v1";
        }
        """;

    [TestCase("insert", 0, "v0")]
    [TestCase("insert", 1, "v1-2")]
    [TestCase("insert", 2, "v1-2")]
    [TestCase("insert", 3, "default")]
    [TestCase("update", 0, "v0")]
    [TestCase("update", 3, "default")]
    [TestCase("savepoint", 3, "default")]
    [TestCase("freeze", 0, "freeze-v0")]
    [TestCase("freeze", 1, "freeze-v1-2 audit")]
    [TestCase("freeze", 2, "freeze-v1-2 audit")]
    [TestCase("freeze", 3, "freeze audit")]
    [TestCase("close", 0, "v0", Description = "no close handler claims version 0: the version handler does")]
    [TestCase("close", 1, "close-v1")]
    [TestCase("close", 2, "v1-2")]
    [TestCase("close", 3, "default")]
    [TestCase("touch", 0, "v0")]
    [TestCase("touch", 2, "v1-2")]
    [TestCase("touch", 3, "default")]
    public void With_version_handlers_each_action_and_version_reaches_one_handler(
        string action,
        int version,
        string handler
    ) => Assert.That(Apply("Dispatch.Upcast", action, version), Is.EqualTo(handler));

    [TestCase("freeze", 0, "freeze audit", Description = "older than every versioned handler: the action's handler")]
    [TestCase("freeze", 1, "freeze-v1")]
    [TestCase("freeze", 2, "freeze audit", Description = "between versioned handlers")]
    [TestCase("freeze", 3, "freeze audit")]
    [TestCase("insert", 0, "default")]
    public void An_unversioned_action_handler_covers_every_version_no_versioned_handler_claims(
        string action,
        int version,
        string handler
    ) => Assert.That(Apply("Dispatch.Plain", action, version), Is.EqualTo(handler));

    /// <summary>Applies one stored event (payload <c>{"reason":"audit"}</c>) to a new record, as replay does.</summary>
    private static string Apply(string typeName, string action, int version)
    {
        using var model = CompiledModel.Load("Dispatch", Source);
        var type = model.Type(typeName);
        var evented = type.GetProperty("SpectorType", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        var record = evented.GetType().GetMethod("Create")!.Invoke(evented, [Guid.CreateVersion7()])!;
        var attrs = Attrs.Parse("""{"reason":"audit"}""");
        var changeset = Activator.CreateInstance(
            typeof(Changeset<>).MakeGenericType(type),
            BindingFlags.NonPublic | BindingFlags.Instance,
            null,
            [evented, record, action, version, Guid.CreateVersion7(), attrs, true],
            null
        )!;
        evented.GetType().GetMethod("Apply")!.Invoke(evented, [changeset]);
        return (string)CompiledModel.Get(record, "Handled")!;
    }
}
