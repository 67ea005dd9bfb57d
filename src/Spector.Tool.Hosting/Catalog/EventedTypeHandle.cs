namespace Spector.Tool;

/// <summary>One evented type, its generic operations (rebuild, savepoint checks) reachable without knowing its
/// T.</summary>
public abstract class EventedTypeHandle
{
    /// <summary>The type's name as stored (<c>Shop.Order</c>).</summary>
    public abstract string Name { get; }

    /// <summary>The events table it belongs to.</summary>
    public abstract EventLog Log { get; }

    /// <summary>True when the type keeps a record table that can be rebuilt from the log.</summary>
    public abstract bool HasRecordTable { get; }

    /// <summary>True when the type writes savepoints (<c>SavepointEvery</c> or a savepoint hook).</summary>
    public abstract bool HasSavepoints { get; }

    /// <summary>Rebuilds the record table from the log.</summary>
    public abstract Task<RebuildResult> RebuildAsync(RebuildOptions options, CancellationToken cancellationToken);

    /// <summary>The ids of the type's records.</summary>
    public abstract IAsyncEnumerable<Guid> IdsAsync(CancellationToken cancellationToken);

    /// <summary>Checks every savepoint of one record against a replay of the events before it.</summary>
    public abstract Task<SavepointVerification> VerifySavepointsAsync(Guid id, CancellationToken cancellationToken);

    internal static EventedTypeHandle Create(Type recordType, object spectorType) =>
        (EventedTypeHandle)
            Activator.CreateInstance(typeof(EventedTypeHandle<>).MakeGenericType(recordType), spectorType)!;
}

internal sealed class EventedTypeHandle<T>(EventedType<T> type) : EventedTypeHandle
    where T : class
{
    public override string Name => type.Name;

    public override EventLog Log => type.Log;

    public override bool HasRecordTable => type.Table is not null;

    public override bool HasSavepoints => type.HasSavepoint || type.SavepointEvery > 0;

    public override Task<RebuildResult> RebuildAsync(RebuildOptions options, CancellationToken cancellationToken) =>
        RecordTables.RebuildAsync(type, options, cancellationToken);

    public override IAsyncEnumerable<Guid> IdsAsync(CancellationToken cancellationToken) =>
        SpectorRuntime.IdsAsync(type, null, cancellationToken);

    public override Task<SavepointVerification> VerifySavepointsAsync(Guid id, CancellationToken cancellationToken) =>
        SpectorRuntime.VerifySavepointsAsync(type, null, id, cancellationToken);
}
