namespace Spector.Generators;

/// <summary>Names of the pipeline steps, so tests can prove what is cached after an edit.</summary>
internal static class TrackingNames
{
    public const string EventsTables = nameof(EventsTables);
    public const string EventedTypes = nameof(EventedTypes);
    public const string EventedPlans = nameof(EventedPlans);
    public const string EventsTablePlans = nameof(EventsTablePlans);
}
