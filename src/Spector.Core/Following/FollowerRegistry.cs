namespace Spector;

/// <summary>
/// The followers running (<see cref="Follower.RunAsync"/>) on one store object, so that a projection's rebuild in
/// the same process can find the follower holding the lease and pause it instead of waiting for it forever.
/// </summary>
internal sealed class FollowerRegistry
{
    private readonly Lock _gate = new();
    private readonly List<Follower> _running = [];

    public void Add(Follower follower)
    {
        lock (_gate) _running.Add(follower);
    }

    public void Remove(Follower follower)
    {
        lock (_gate) _running.Remove(follower);
    }

    /// <summary>The running instance of follower <paramref name="name"/> whose lease token is <paramref name="owner"/>, or null.</summary>
    public Follower? Find(string name, string? owner)
    {
        lock (_gate) return _running.FirstOrDefault(f => f.Name == name && f.InstanceId == owner);
    }
}
