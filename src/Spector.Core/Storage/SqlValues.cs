using System.ComponentModel;

namespace Spector;

/// <summary>Normalises values before they are bound to record-table columns; called by generated code.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class SqlValues
{
    /// <summary>PostgreSQL's timestamptz accepts only UTC offsets from Npgsql.</summary>
    public static DateTimeOffset Utc(DateTimeOffset value) => value.ToUniversalTime();

    /// <inheritdoc cref="Utc(DateTimeOffset)"/>
    public static DateTimeOffset? Utc(DateTimeOffset? value) => value?.ToUniversalTime();

    /// <summary>Unspecified kinds are taken as UTC, the kind replay produces.</summary>
    public static DateTime Utc(DateTime value) =>
        value.Kind switch
        {
            DateTimeKind.Utc => value,
            DateTimeKind.Local => value.ToUniversalTime(),
            _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
        };

    /// <inheritdoc cref="Utc(DateTime)"/>
    public static DateTime? Utc(DateTime? value) => value is { } v ? Utc(v) : null;
}
