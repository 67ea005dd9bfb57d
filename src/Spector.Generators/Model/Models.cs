using System;
using System.Linq;

namespace Spector.Generators.Model;

// Plain, equatable records: the incremental pipeline caches these, so no Roslyn symbol, syntax node or
// compilation may appear in them.

/// <summary>Where a type is declared: its namespace, the partial declarations that contain it, and its kind.</summary>
/// <param name="Containers">Each containing type as <c>partial class Outer</c>, outermost first (names
/// unescaped).</param>
/// <param name="Kind"><c>class</c> or <c>record</c>.</param>
internal sealed record TypeName(string Namespace, string Name, EquatableArray<string> Containers, string Kind = "class")
{
    /// <summary>The name with <c>global::</c>, usable anywhere in generated code (keywords escaped).</summary>
    public string FullyQualified =>
        "global::"
        + string.Join(
            ".",
            (Namespace.Length == 0 ? Array.Empty<string>() : Namespace.Split('.'))
                .Concat(Containers.Items.Select(ContainerName))
                .Append(Name)
                .Select(GeneratedNames.Identifier)
        );

    /// <summary>Namespace-qualified name with dots, as shown in messages and stored schema lists.</summary>
    public string Display =>
        (Namespace.Length == 0 ? "" : Namespace + ".")
        + string.Concat(Containers.Items.ConvertAll(c => ContainerName(c) + "."))
        + Name;

    /// <summary>A name for hint files: <c>{Namespace}.{Type}</c>.</summary>
    public string HintName => Display.Replace('<', '[').Replace('>', ']');

    /// <summary>The partial re-declaration of the type itself, e.g. <c>partial record Note</c>.</summary>
    public string Declaration => $"partial {Kind} {GeneratedNames.Identifier(Name)}";

    /// <summary>The namespace as a declaration may write it.</summary>
    public string NamespaceCode => string.Join(".", Namespace.Split('.').Select(GeneratedNames.Identifier));

    /// <summary>A container's partial re-declaration with its name escaped.</summary>
    public static string ContainerCode(string container) =>
        container.Substring(0, container.LastIndexOf(' ') + 1) + GeneratedNames.Identifier(ContainerName(container));

    private static string ContainerName(string container) => container.Substring(container.LastIndexOf(' ') + 1);
}

/// <summary>How a property's value is converted and stored.</summary>
internal enum ValueKind
{
    String,
    Boolean,
    Int16,
    Int32,
    Int64,
    Single,
    Double,
    Decimal,
    Guid,
    DateTime,
    DateTimeOffset,
    Enum,

    /// <summary>Anything else: bound through System.Text.Json, and has no record-table column.</summary>
    Other,
}

/// <summary>One public settable property of an evented type.</summary>
/// <param name="Name">The C# property name.</param>
/// <param name="Key">The payload key: the snake_case name.</param>
/// <param name="Column">The record-table column, or null when not mapped.</param>
/// <param name="Type">The property type, fully qualified.</param>
/// <param name="ValueType">For enums and <see cref="ValueKind.Other"/>, the non-nullable type argument for
/// conversion.</param>
internal sealed record PropertyModel(
    string Name,
    string Key,
    string? Column,
    string Type,
    string ValueType,
    ValueKind Kind,
    bool IsNullable
);

/// <summary>A typed parameter of a handler: stored under <see cref="Key"/>, bound back on replay.</summary>
internal sealed record ParameterModel(
    string Name,
    string Key,
    string Type,
    string ValueType,
    ValueKind Kind,
    bool IsNullable
);

/// <summary>
/// One handler method. <see cref="Action"/> is null for version-only handlers; <see cref="VersionFrom"/> is null
/// for an action handler of every version that no versioned handler of its action claims.
/// </summary>
internal sealed record HandlerModel(
    string Method,
    string? Action,
    int? VersionFrom,
    int? VersionTo,
    EquatableArray<ParameterModel> Parameters
);

/// <summary>An <c>[Evented]</c> class as the emitter needs it.</summary>
internal sealed record EventedModel(
    TypeName Type,
    int Version,
    int SavepointEvery,
    string? Table,
    EquatableArray<string> Actions,
    EquatableArray<PropertyModel> Properties,
    EquatableArray<HandlerModel> Handlers,
    Hooks Hooks,
    LocationInfo? Location,
    EquatableArray<DiagnosticInfo> Diagnostics,
    LocationInfo? TableLocation = null,
    string Key = "Id"
);

/// <summary>Which optional hooks the type declares with the right signature.</summary>
[System.Flags]
internal enum Hooks
{
    None = 0,
    Savepoint = 1,
    PrepareEvent = 2,
    PrepareMaterialization = 4,
}

/// <summary>A custom action with its stored code.</summary>
internal sealed record ActionPlan(string Name, int Code);

/// <summary>One <c>[ActionAlias(name, storedAs)]</c> entry.</summary>
/// <param name="Location">Where the new name is written; <paramref name="StoredAsLocation"/>: the old one.</param>
internal sealed record AliasEntry(
    string Name,
    string StoredAs,
    LocationInfo? Location,
    LocationInfo? StoredAsLocation = null
);

/// <summary>One <c>[EventSchema(typeof(T), index)]</c> entry.</summary>
/// <param name="IsEvented">True when the listed type (or its generic definition) is marked [Evented].</param>
internal sealed record SchemaEntry(
    string TypeFullyQualified,
    string TypeDisplay,
    int Index,
    LocationInfo? Location,
    bool IsEvented = true
);

/// <summary>An <c>[EventsTable]</c> class.</summary>
internal sealed record EventsTableModel(
    TypeName Type,
    string Table,
    bool Hashed,
    bool RecordHashScope,
    EquatableArray<SchemaEntry> Schemas,
    EquatableArray<AliasEntry> Aliases,
    EquatableArray<LinkEntry> Links,
    EquatableArray<string> Shards,
    string? ShardBy,
    EquatableArray<DiagnosticInfo> Diagnostics,
    LocationInfo? TableLocation = null,
    bool IsStatic = false
)
{
    /// <summary>Every table this events table owns: itself or its shards, and its link tables.</summary>
    public System.Collections.Generic.IEnumerable<string> OwnedTables =>
        (Shards.Length == 0 ? new[] { Table } : Shards.Items.ToArray()).Concat(
            Links.Items.SelectMany(l =>
                Shards.Length == 0 ? new[] { l.Table } : Shards.Items.Select(s => s + "_" + l.Table)
            )
        );
}

/// <summary>One <c>[EventLink(name, table, column)]</c> entry.</summary>
internal sealed record LinkEntry(string Name, string Table, string Column, bool Typed);

/// <summary>
/// What is emitted for one evented type once its events table is known. It holds no source location, so an edit
/// that only moves code (blank lines, comments) leaves it equal and the file is not emitted again.
/// </summary>
internal sealed record EventedPlan(
    EventedModel Model,
    string EventsTableType,
    string EventsTableName,
    int SchemaIndex,
    EquatableArray<ActionPlan> Actions
)
{
    public static EventedPlan Create(
        EventedModel model,
        string eventsTableType,
        string eventsTableName,
        int schemaIndex,
        EquatableArray<ActionPlan> actions
    ) =>
        new(
            model with
            {
                Location = null,
                TableLocation = null,
            },
            eventsTableType,
            eventsTableName,
            schemaIndex,
            actions
        );
}

/// <summary>What is emitted for one events table: its schemas and the record tables among them; no source
/// locations.</summary>
internal sealed record EventsTablePlan(
    EventsTableModel Model,
    EquatableArray<string> RecordTableOwners,
    EquatableArray<ActionPlan> Actions
)
{
    public static EventsTablePlan Create(
        EventsTableModel model,
        EquatableArray<string> owners,
        EquatableArray<ActionPlan> actions
    ) =>
        new(
            model with
            {
                Schemas = model.Schemas.Items.Select(s => s with { Location = null }).ToEquatableArray(),
                Aliases = model
                    .Aliases.Items.Select(a => a with { Location = null, StoredAsLocation = null })
                    .ToEquatableArray(),
                TableLocation = null,
            },
            owners,
            actions
        );
}

internal static class ArrayExtensions
{
    public static TOut[] ConvertAll<TIn, TOut>(
        this System.Collections.Immutable.ImmutableArray<TIn> items,
        Func<TIn, TOut> map
    )
    {
        var result = new TOut[items.Length];
        for (var i = 0; i < items.Length; i++)
            result[i] = map(items[i]);
        return result;
    }
}
