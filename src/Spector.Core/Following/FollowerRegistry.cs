namespace Spector;

/// <summary>
/// The followers running (<see cref="Follower.RunAsync"/>) on one store object, so that a projection's rebuild in
/// the same process can find the follower holding the lease and pause it instead of waiting for it forever.
/// </summary>
internal sealed class FollowerRegistry
{
    private readonly Lock _gate = new();
    private readonly List<Follower> _running = [];
    private volatile int _count;

    public void Add(Follower follower)
    {
        lock (_gate)
        {
            _running.Add(follower);
            _count = _running.Count;
        }
    }

    public void Remove(Follower follower)
    {
        lock (_gate)
        {
            _running.Remove(follower);
            _count = _running.Count;
        }
    }

    /// <summary>
    /// A write through this store object committed to <paramref name="log"/>: its running followers poll at once
    /// instead of at the end of their backoff (PostgreSQL's notifications do this across processes too).
    /// </summary>
    public void Appended(EventLog log)
    {
        if (_count == 0)
            return;
        lock (_gate)
            foreach (var follower in _running)
                follower.Wake(log);
    }

    /// <summary>A running instance of follower <paramref name="name"/> other than <paramref name="self"/>, or
    /// null.</summary>
    public Follower? FindOther(string name, Follower self)
    {
        lock (_gate)
            return _running.FirstOrDefault(f => f.Name == name && !ReferenceEquals(f, self));
    }

    /// <summary>The running instance of follower <paramref name="name"/> whose lease token is <paramref name="owner"/>,
    /// or null.</summary>
    public Follower? Find(string name, string? owner)
    {
        lock (_gate)
            return _running.FirstOrDefault(f => f.Name == name && f.InstanceId == owner);
    }
}
