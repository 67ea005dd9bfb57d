using Microsoft.CodeAnalysis;

namespace Spector.Diagnostics;

/// <summary>
/// The one catalogue of Spector diagnostics, shared by the generator (rules that stop generation) and the
/// analyzers (everything else). Each id has a page at docs/rules/SPECnnn.md.
/// </summary>
internal static class DiagnosticDescriptors
{
    public const string SchemaCategory = "Spector.Schema";
    public const string UsageCategory = "Spector.Usage";
    public const string StorageCategory = "Spector.Storage";
    public const string LockCategory = "Spector.Lock";

    private const string HelpRoot = "https://github.com/spector-dotnet/spector/blob/main/docs/rules/";

    public static readonly DiagnosticDescriptor NotOnAnyEventsTable = Error(
        "SPEC001",
        SchemaCategory,
        "Evented type has no schema index",
        "'{0}' is [Evented] but no [EventsTable] lists it; "
            + "add [EventSchema(typeof({0}), <next free index>)] to an events table class"
    );

    public static readonly DiagnosticDescriptor DuplicateSchemaIndex = Error(
        "SPEC002",
        SchemaCategory,
        "Schema index used twice",
        "Schema index {0} of events table '{1}' is given to both '{2}' and '{3}'; "
            + "every type needs its own index, never reused"
    );

    public static readonly DiagnosticDescriptor OnTwoEventsTables = Error(
        "SPEC003",
        SchemaCategory,
        "Evented type listed on two events tables",
        "'{0}' is listed on events tables '{1}' and '{2}'; a type's events live in exactly one table"
    );

    public static readonly DiagnosticDescriptor SchemaOfNonEventedType = Error(
        "SPEC004",
        SchemaCategory,
        "Schema index for a type that is not evented",
        "[EventSchema] lists '{0}', which has no [Evented] attribute"
    );

    public static readonly DiagnosticDescriptor NotPartial = Error(
        "SPEC005",
        UsageCategory,
        "Type must be partial",
        "'{0}' must be declared partial (with every containing type) so Spector can generate its members"
    );

    public static readonly DiagnosticDescriptor MissingChangesetHandler = Error(
        "SPEC006",
        UsageCategory,
        "Missing default Changeset handler",
        "'{0}' needs a handler 'static void Changeset(Changeset<{0}> c)' that applies new and replayed events"
    );

    public static readonly DiagnosticDescriptor UndeclaredAction = Error(
        "SPEC007",
        UsageCategory,
        "Handler for an undeclared action",
        "[OnAction(\"{0}\")] on '{1}' names an action '{2}' does not declare; add \"{0}\" to [Evented(Actions = [...])]"
    );

    public static readonly DiagnosticDescriptor VersionNotOlder = Error(
        "SPEC008",
        UsageCategory,
        "Version handler reaches the current version",
        "'{0}' handles version {1}, but '{2}' is at version {3}; "
            + "[VersionIs]/[VersionIn] handlers upcast older payloads only"
    );

    public static readonly DiagnosticDescriptor DuplicateHandler = Error(
        "SPEC009",
        UsageCategory,
        "Two handlers for one action and version",
        "'{0}' and '{1}' both handle action '{2}' at version {3}; exactly one handler must apply to each event"
    );

    public static readonly DiagnosticDescriptor AliasOfUndeclaredAction = Error(
        "SPEC010",
        SchemaCategory,
        "Alias for an undeclared action",
        "[ActionAlias(\"{0}\", \"{1}\")]: no type on events table '{2}' declares the action '{0}'"
    );

    public static readonly DiagnosticDescriptor AliasShadowsLiveAction = Error(
        "SPEC011",
        SchemaCategory,
        "Alias shadows a live action",
        "[ActionAlias(\"{0}\", \"{1}\")]: '{1}' is still declared as an action on events table '{2}', "
            + "so both names would share one stored code"
    );

    public static readonly DiagnosticDescriptor ActionCodeCollision = Error(
        "SPEC012",
        SchemaCategory,
        "Action code collision",
        "Actions '{0}' and '{1}' of events table '{2}' would be stored under the same code {3}; rename one"
    );

    public static readonly DiagnosticDescriptor BadHandlerSignature = Error(
        "SPEC013",
        UsageCategory,
        "Handler has the wrong signature",
        "Handler '{0}' of '{1}' must be '{2}'"
    );

    public static readonly DiagnosticDescriptor InvalidIdentifier = Error(
        "SPEC014",
        StorageCategory,
        "Invalid SQL identifier",
        "'{0}' is not a valid {1} name: "
            + "use letters, digits and underscores, not starting with a digit, at most 63 characters"
    );

    public static readonly DiagnosticDescriptor NoGuidKey = Error(
        "SPEC015",
        UsageCategory,
        "Evented type needs a Guid Id",
        "'{0}' needs one public settable Guid key, a property 'Guid Id' or one marked [Key]: "
            + "Spector assigns it the id of the record's insert event"
    );

    public static readonly DiagnosticDescriptor UnsupportedColumnType = Error(
        "SPEC016",
        StorageCategory,
        "Property type has no column type",
        "Property '{0}' of '{1}' has type '{2}', which has no column in record table '{3}'; "
            + "use a scalar type or mark it [NotMapped]"
    );

    public static readonly DiagnosticDescriptor NoParameterlessConstructor = Error(
        "SPEC017",
        UsageCategory,
        "Evented type needs a parameterless constructor",
        "'{0}' needs a parameterless constructor: replay starts from an empty record"
    );

    public static readonly DiagnosticDescriptor BadHookSignature = Error(
        "SPEC018",
        UsageCategory,
        "Hook has the wrong signature",
        "Hook '{0}' of '{1}' must be '{2}'"
    );

    // The schema lock (spector.lock, read as an AdditionalFile): what was shipped must stay readable.
    public static readonly DiagnosticDescriptor LockedSchemaRemoved = Error(
        "SPEC019",
        LockCategory,
        "Locked schema index is no longer listed",
        "Schema index {0} of events table '{1}' is locked to '{2}' but no longer listed, "
            + "so its stored events could not be read; put back [EventSchema(typeof({2}), {0})], "
            + "or retire it by changing its spector.lock line to 'retired schema {1} {0} {2} v{3}'"
    );

    public static readonly DiagnosticDescriptor LockedSchemaReassigned = Error(
        "SPEC020",
        LockCategory,
        "Locked schema index is reassigned",
        "Schema index {0} of events table '{1}' is locked to '{2}' but now lists '{3}'; stored events of '{2}' would "
            + "be read as '{3}': {4}."
    );

    public static readonly DiagnosticDescriptor LockedVersionLowered = Error(
        "SPEC021",
        LockCategory,
        "Version is lower than the locked version",
        "'{0}' has Version = {1} but spector.lock records version {2}: "
            + "events written at version {2} would be refused on replay; set Version = {2} or higher"
    );

    public static readonly DiagnosticDescriptor LockedActionRemoved = Error(
        "SPEC022",
        LockCategory,
        "Locked action is gone",
        "Action '{0}' of '{1}' (stored code {2}) is locked but '{1}' no longer declares an action stored under that "
            + "code, so its stored '{0}' events in events table '{3}' would not replay through their handler; {4}"
    );

    public static readonly DiagnosticDescriptor NotInLock = Warning(
        "SPEC023",
        LockCategory,
        "Schema entry is not in spector.lock",
        "{0} is not recorded in spector.lock; add the line '{1}' (the code fix or `dotnet build -t:SpectorLock` "
            + "writes it) so later changes are checked against it"
    );

    public static readonly DiagnosticDescriptor InvalidLockLine = Error(
        "SPEC024",
        LockCategory,
        "spector.lock line cannot be read",
        "spector.lock line {0} cannot be read: '{1}'; expected 'schema <table> <index> <type> v<version>', "
            + "'action <table> <type> <name> <code>', or either prefixed with 'retired'"
    );

    public static readonly DiagnosticDescriptor ActionWithoutHandler = new(
        "SPEC025",
        "Declared action has no typed handler",
        "Action '{0}' of '{1}' has no [OnAction] handler; the default Changeset handler runs for it",
        UsageCategory,
        DiagnosticSeverity.Hidden,
        isEnabledByDefault: true,
        helpLinkUri: HelpRoot + "SPEC025.md"
    );

    public static readonly DiagnosticDescriptor InvalidSharding = Error(
        "SPEC026",
        StorageCategory,
        "Sharding is declared incompletely",
        "Events table '{0}': {1}"
    );

    public static readonly DiagnosticDescriptor HashScopeWithoutHashing = Error(
        "SPEC027",
        StorageCategory,
        "Hash scope on an unhashed events table",
        "Events table '{0}' sets HashScope = HashScope.Record but is not hashed; add Hashed = true, or remove HashScope"
    );

    public static readonly DiagnosticDescriptor AmbiguousOldVersion = Error(
        "SPEC028",
        UsageCategory,
        "Two handlers could replay an old version of an action",
        "'{1}' ([OnAction(\"{0}\")], every version) and '{2}' (a version handler) could both replay stored '{0}' "
            + "events of version {3}; add a handler marked [OnAction(\"{0}\"), {4}] that says what they mean"
    );

    public static readonly DiagnosticDescriptor ActionNameNotAMethod = Error(
        "SPEC029",
        UsageCategory,
        "Action name makes no method name",
        "Action '{0}' of '{1}' would generate the method '{2}', which is not a C# identifier; start the name with a "
            + "letter, use letters, digits, '_' or '-' (no spaces) and keep the method within 512 characters"
    );

    public static readonly DiagnosticDescriptor ActionsShareMethod = Error(
        "SPEC030",
        UsageCategory,
        "Two actions generate one method",
        "Actions '{0}' and '{1}' of '{2}' would both generate the method '{3}'; rename one"
    );

    public static readonly DiagnosticDescriptor NameTakenByGeneratedCode = Error(
        "SPEC031",
        UsageCategory,
        "Name is taken by generated code",
        "'{0}' collides with generated code: {1}; rename it"
    );

    public static readonly DiagnosticDescriptor StoredNameUsedTwice = Error(
        "SPEC032",
        StorageCategory,
        "Two members are stored under one name",
        "'{0}' and '{1}' of '{2}' are both stored as the {3} '{4}'; rename one, or give it its own [Column] name"
    );

    public static readonly DiagnosticDescriptor UnusableParameterType = Error(
        "SPEC033",
        UsageCategory,
        "Action parameter type cannot be used",
        "Parameter '{0}' of handler '{1}' has type '{2}', which {3}; use a type that is stored as data (scalars, "
            + "enums, records and collections of them)"
    );

    public static readonly DiagnosticDescriptor PropertyNotReplayable = Error(
        "SPEC034",
        UsageCategory,
        "Property cannot be set by replay",
        "Property '{0}' of '{1}' is {2}, so replay cannot set it; declare it with a public 'set' accessor and without "
            + "'required' (an init-only property no event carries may be marked [NotMapped])"
    );

    public static readonly DiagnosticDescriptor UnsupportedEventedShape = Error(
        "SPEC035",
        UsageCategory,
        "Type cannot be evented",
        "'{0}' cannot be [Evented]: {1}"
    );

    public static readonly DiagnosticDescriptor TableNameUsedTwice = Error(
        "SPEC036",
        StorageCategory,
        "Table name used twice",
        "Table name '{0}' is used by {1} and by {2}; their rows would mix, so give each its own table"
    );

    public static readonly DiagnosticDescriptor NegativeNumber = Error(
        "SPEC037",
        SchemaCategory,
        "Negative schema index or version",
        "{0} is {1}; schema indexes, versions and savepoint intervals are zero or more"
    );

    public static readonly DiagnosticDescriptor TypeListedTwice = Error(
        "SPEC042",
        SchemaCategory,
        "Evented type listed twice on one events table",
        "'{0}' is listed on events table '{1}' under schema indexes {2} and {3}; a type has exactly one index, so "
            + "remove one [EventSchema]"
    );

    public static readonly DiagnosticDescriptor ActionAliasedTwice = Error(
        "SPEC043",
        SchemaCategory,
        "Action aliased twice",
        "Action '{0}' of events table '{1}' has two aliases, '{2}' and '{3}'; its events are stored under one code, "
            + "so events stored under the other name could not be replayed; keep the alias of the name it was shipped "
            + "under"
    );

    public static readonly DiagnosticDescriptor ReversedVersionRange = Error(
        "SPEC044",
        UsageCategory,
        "Version range is reversed",
        "[VersionIn({0}, {1})] on '{2}' covers no version: the first bound must not be greater than the second"
    );

    public static readonly DiagnosticDescriptor LockedTableGone = Error(
        "SPEC040",
        LockCategory,
        "Locked events table is gone",
        "Events table '{0}' has {1} live spector.lock lines but no [EventsTable(\"{0}\")] declares it, so the events "
            + "stored in table '{0}' would be orphaned; if the class was renamed or its table name changed, put back "
            + "[EventsTable(\"{0}\")] (the name is the SQL table that holds the rows); "
            + "if its events are abandoned, prefix each of its lines with 'retired'"
    );

    public static readonly DiagnosticDescriptor NoLockFile = Warning(
        "SPEC041",
        LockCategory,
        "No schema lock",
        "Events table '{0}' is not checked against a schema lock: the analyzers see no spector.lock; create it beside "
            + "the project with the code fix or `dotnet build -t:SpectorLock` and commit it"
    );

    private static DiagnosticDescriptor Warning(string id, string category, string title, string message) =>
        new(
            id,
            title,
            message,
            category,
            DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            helpLinkUri: HelpRoot + id + ".md"
        );

    private static DiagnosticDescriptor Error(string id, string category, string title, string message) =>
        new(
            id,
            title,
            message,
            category,
            DiagnosticSeverity.Error,
            isEnabledByDefault: true,
            helpLinkUri: HelpRoot + id + ".md"
        );
}
