namespace Spector;

/// <summary>
/// One property an event changed: its stored key, and its value before and after the event, as the property's
/// own type (a <see cref="decimal"/> stays a decimal, an enum its enum; collections are copies taken then).
/// </summary>
/// <param name="Key">The payload key the property is stored under (snake_case).</param>
/// <param name="Before">The value before the event (the type's default on the record's insert).</param>
/// <param name="After">The value after the event.</param>
public sealed record FieldChange(string Key, object? Before, object? After)
{
    /// <summary>The value before, as <typeparamref name="TValue"/>.</summary>
    /// <exception cref="InvalidCastException">The property is not a <typeparamref name="TValue"/>.</exception>
    public TValue? BeforeAs<TValue>() => Cast<TValue>(Before, "before");

    /// <summary>The value after, as <typeparamref name="TValue"/>.</summary>
    /// <exception cref="InvalidCastException">The property is not a <typeparamref name="TValue"/>.</exception>
    public TValue? AfterAs<TValue>() => Cast<TValue>(After, "after");

    private TValue? Cast<TValue>(object? value, string which) =>
        value switch
        {
            null => default,
            TValue typed => typed,
            _ => throw new InvalidCastException(
                $"The {which} value of '{Key}' is a {value.GetType().Name}, not a {typeof(TValue).Name}."
            ),
        };

    /// <inheritdoc />
    public override string ToString() => $"{Key}: {Show(Before)} -> {Show(After)}";

    private static string Show(object? value) =>
        value switch
        {
            null => "null",
            string text => $"\"{text}\"",
            IFormattable formattable => formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
            System.Collections.IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(Show)) + "]",
            _ => value.ToString() ?? "",
        };
}

/// <summary>One event of a record with the properties it changed (empty for a savepoint, which changes
/// nothing).</summary>
/// <param name="Event">The stored event, with its actor, reason and time.</param>
/// <param name="Changes">The properties whose values differ after the event, in declaration order.</param>
/// <param name="Deleted">True for the record's delete event.</param>
public sealed record RecordChange(StoredEvent Event, IReadOnlyList<FieldChange> Changes, bool Deleted = false);
