using System;
using System.Linq;
using Microsoft.CodeAnalysis.CSharp;

namespace Spector.Generators.Model;

/// <summary>
/// The member names the generator adds to user types, in one place: the emitters write them and the parsers
/// refuse declarations that would collide with them, so generated code never fails to compile.
/// </summary>
internal static class GeneratedNames
{
    /// <summary>
    /// Members added to every evented type (some only with a record table or a hook, reserved all the same so
    /// adding one never breaks a build). GeneratedNamesTests checks that it covers what the emitters write;
    /// GetAsOfAsync and ChangesAsync are reserved ahead of their emitters.
    /// </summary>
    public static readonly string[] EventedMembers =
    [
        "SpectorType",
        "SpectorRecordTable",
        "SpectorDescriptor",
        "InsertAsync",
        "UpdateAsync",
        "DeleteAsync",
        "SavepointAsync",
        "VerifySavepointsAsync",
        "GetAsync",
        "GetVersionedAsync",
        "ExistsAsync",
        "IdsAsync",
        "GetAtAsync",
        "GetAsOfAsync",
        "ChangesAsync",
        "MaterializeAsync",
        "BringUpAsync",
        "AllEventsAsync",
    ];

    /// <summary>
    /// Members added to every events table class: Log and MigrateAsync by the generator, UseSqlite and UsePostgres
    /// by the provider packages (through IEventsTable), which a member of the same name would hide.
    /// </summary>
    public static readonly string[] EventsTableMembers = ["Log", "UseSqlite", "UsePostgres", "MigrateAsync"];

    /// <summary>Parameters every generated operation has besides the handler's own.</summary>
    public static readonly string[] OperationParameters = ["session", "cancellationToken"];

    /// <summary>The longest identifier C# accepts (CS0645 beyond it; CS7013 for generated names).</summary>
    public const int MaxIdentifierLength = 512;

    /// <summary><c>soft_delete</c> → <c>SoftDeleteAsync</c>: the method generated for a custom action.</summary>
    /// <remarks>Spaces are not separators: spector.lock separates its fields with them (SPEC029).</remarks>
    public static string ActionMethod(string action) =>
        string.Concat(
            action
                .Split(new[] { '_', '-' }, StringSplitOptions.RemoveEmptyEntries)
                .Select(part => char.ToUpperInvariant(part[0]) + part.Substring(1))
        ) + "Async";

    /// <summary>
    /// True when the action's method name is a C# identifier that starts with a letter (any the language allows,
    /// letter-numbers such as 'Ⅻ' included) and is not longer than C# allows.
    /// </summary>
    public static bool IsUsableActionMethod(string method) =>
        method.Length > "Async".Length
        && method.Length <= MaxIdentifierLength
        && method[0] != '_'
        && SyntaxFacts.IsIdentifierStartCharacter(method[0])
        && SyntaxFacts.IsValidIdentifier(method);

    /// <summary>A name as code may write it: keywords get an <c>@</c>.</summary>
    public static string Identifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None ? name : "@" + name;
}
