using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Spector;

/// <summary>Registers Spector in a service collection.</summary>
public static class SpectorServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="SpectorStore"/> built from <see cref="SpectorServiceOptions"/> (the container's
    /// <c>ILoggerFactory</c> logs for it), and a hosted service that migrates on startup when asked to. Inject the
    /// store and pass it to generated methods: <c>Account.InsertAsync(store, attrs)</c>.
    /// </summary>
    public static IServiceCollection AddSpector(this IServiceCollection services, Action<SpectorServiceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.Configure(configure);
        return services.AddSpectorCore();
    }

    /// <summary>As <see cref="AddSpector(IServiceCollection, Action{SpectorServiceOptions})"/>, bound from <paramref name="configuration"/> first.</summary>
    public static IServiceCollection AddSpector(this IServiceCollection services, IConfiguration configuration,
        Action<SpectorServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.Configure<SpectorServiceOptions>(configuration);
        if (configure is not null) services.Configure(configure);
        return services.AddSpectorCore();
    }

    private static IServiceCollection AddSpectorCore(this IServiceCollection services)
    {
        services.AddOptions<SpectorServiceOptions>()
            .Validate(o => o.MaxWriteAttempts >= 1, "Spector: MaxWriteAttempts must be at least 1.")
            .Validate(o => o.SlowReplayThreshold > TimeSpan.Zero, "Spector: SlowReplayThreshold must be positive.")
            .Validate(o => !o.MigrateOnStartup || o.EventsTables.Count > 0,
                "Spector: MigrateOnStartup needs the events tables to migrate: add them to EventsTables (AppEvents.Log, ...).");
        services.TryAddSingleton<SpectorStoreHolder>();
        services.TryAddSingleton(sp => sp.GetRequiredService<SpectorStoreHolder>().Store);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SpectorMigrationService>());
        return services;
    }
}
