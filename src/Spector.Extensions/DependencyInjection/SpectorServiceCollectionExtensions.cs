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
    /// <c>ILoggerFactory</c> logs for it), and a hosted service that migrates on startup when asked to. The store
    /// becomes the default of every table in <see cref="SpectorServiceOptions.EventsTables"/>, so
    /// <c>User.InsertAsync(attrs)</c> uses it; or inject it and pass it: <c>Account.InsertAsync(store, attrs)</c>.
    /// </summary>
    public static IServiceCollection AddSpector(
        this IServiceCollection services,
        Action<SpectorServiceOptions> configure
    )
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.Configure(configure);
        return services.AddSpectorCore();
    }

    /// <summary>As <see cref="AddSpector(IServiceCollection, Action{SpectorServiceOptions})"/>, bound from <paramref
    /// name="configuration"/> first.</summary>
    public static IServiceCollection AddSpector(
        this IServiceCollection services,
        IConfiguration configuration,
        Action<SpectorServiceOptions>? configure = null
    )
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.Configure<SpectorServiceOptions>(configuration);
        if (configure is not null)
            services.Configure(configure);
        return services.AddSpectorCore();
    }

    /// <summary>
    /// Registers a second (third, ...) store under <paramref name="key"/>: inject it with
    /// <c>[FromKeyedServices("tenantA")] SpectorStore store</c>. Its options are named by the key; it becomes the
    /// events tables' default only with <see cref="SpectorServiceOptions.UseAsDefaultStore"/> set.
    /// </summary>
    public static IServiceCollection AddSpector(
        this IServiceCollection services,
        string key,
        Action<SpectorServiceOptions> configure
    )
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.Configure(Required(key), configure);
        return services.AddSpectorKeyed(key);
    }

    /// <summary>As <see cref="AddSpector(IServiceCollection, string, Action{SpectorServiceOptions})"/>, bound from
    /// <paramref name="configuration"/> first.</summary>
    public static IServiceCollection AddSpector(
        this IServiceCollection services,
        string key,
        IConfiguration configuration,
        Action<SpectorServiceOptions>? configure = null
    )
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.Configure<SpectorServiceOptions>(Required(key), configuration);
        if (configure is not null)
            services.Configure(key, configure);
        return services.AddSpectorKeyed(key);
    }

    private static string Required(string key) =>
        string.IsNullOrWhiteSpace(key)
            ? throw new ArgumentException("A keyed Spector store needs a non-empty key.", nameof(key))
            : key;

    private static IServiceCollection AddSpectorCore(this IServiceCollection services)
    {
        services.AddOptions<SpectorServiceOptions>().ValidateSpector(Options.DefaultName);
        services.TryAddSingleton(sp => new SpectorStoreHolder(sp, Options.DefaultName));
        services.TryAddSingleton(sp => sp.GetRequiredService<SpectorStoreHolder>().Store);
        services.AddMigrationService();
        return services;
    }

    private static IServiceCollection AddSpectorKeyed(this IServiceCollection services, string key)
    {
        if (
            services.Any(d =>
                d.IsKeyedService && Equals(d.ServiceKey, key) && d.ServiceType == typeof(SpectorStoreHolder)
            )
        )
            throw new InvalidOperationException($"Spector: a store is already registered under the key '{key}'.");
        services.AddOptions<SpectorServiceOptions>(key).ValidateSpector(key);
        services.AddKeyedSingleton(key, (sp, _) => new SpectorStoreHolder(sp, key));
        services.AddKeyedSingleton(key, (sp, k) => sp.GetRequiredKeyedService<SpectorStoreHolder>(k).Store);
        services.AddSingleton(new SpectorStoreKey(key));
        services.AddMigrationService();
        return services;
    }

    private static void AddMigrationService(this IServiceCollection services) =>
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SpectorMigrationService>());

    private static void ValidateSpector(this OptionsBuilder<SpectorServiceOptions> options, string name)
    {
        var store = name == Options.DefaultName ? "Spector" : $"Spector store '{name}'";
        options
            .Validate(o => Enum.IsDefined(o.Dialect), $"{store}: Dialect must be Sqlite or PostgreSql.")
            // An empty string would open SQLite's private temporary database: migrations and data vanish silently.
            .Validate(
                o => o.ConnectionString is null || !string.IsNullOrWhiteSpace(o.ConnectionString),
                $"{store}: ConnectionString is empty; set it, or leave it out for PostgreSQL to use the container's "
                    + "NpgsqlDataSource."
            )
            .Validate(o => o.MaxWriteAttempts >= 1, $"{store}: MaxWriteAttempts must be at least 1.")
            .Validate(o => o.SlowReplayThreshold > TimeSpan.Zero, $"{store}: SlowReplayThreshold must be positive.")
            .Validate(
                o => !o.MigrateOnStartup || o.EventsTables.Count > 0,
                $"{store}: MigrateOnStartup needs the events tables to migrate: "
                    + "add them to EventsTables (AppEvents.Log, ...)."
            );
    }
}

/// <summary>The key of one keyed store registration: lets start-up and the command line find every keyed
/// store.</summary>
/// <param name="Key">The service key.</param>
public sealed record SpectorStoreKey(string Key);
