using System.Data.Common;
using System.Text.Json;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;

namespace Spector.Benchmarks.Baselines;

/// <summary>An account as an EF Core entity.</summary>
public sealed class EfAccount
{
    public Guid Id { get; set; }
    public string Owner { get; set; } = "";
    public decimal Balance { get; set; }
    public string? Memo { get; set; }
}

/// <summary>One audit row per changed entity: what the usual SaveChanges-interceptor audit writes.</summary>
public sealed class AuditRow
{
    public long Id { get; set; }
    public string Entity { get; set; } = "";
    public Guid EntityId { get; set; }
    public string Action { get; set; } = "";
    public string Changes { get; set; } = "";
    public DateTimeOffset At { get; set; }
}

public sealed class AuditedContext(DbContextOptions<AuditedContext> options) : DbContext(options)
{
    public DbSet<EfAccount> Accounts => Set<EfAccount>();

    public DbSet<AuditRow> Audit => Set<AuditRow>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<EfAccount>().ToTable("ef_accounts");
        model.Entity<AuditRow>().ToTable("ef_audit");
    }
}

/// <summary>Adds an audit row for every added, modified or deleted entity, saved in the same SaveChanges.</summary>
public sealed class AuditInterceptor : SaveChangesInterceptor
{
    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData,
        InterceptionResult<int> result,
        CancellationToken cancellationToken = default
    )
    {
        var context = eventData.Context!;
        var changed = context
            .ChangeTracker.Entries()
            .Where(e =>
                e.Entity is not AuditRow && e.State is EntityState.Added or EntityState.Modified or EntityState.Deleted
            )
            .ToList();
        foreach (var entry in changed)
        {
            var values = entry
                .Properties.Where(p => entry.State != EntityState.Modified || p.IsModified)
                .ToDictionary(p => p.Metadata.Name, p => p.CurrentValue);
            context.Add(
                new AuditRow
                {
                    Entity = entry.Metadata.ClrType.Name,
                    EntityId = (Guid)entry.Property("Id").CurrentValue!,
                    Action = entry.State.ToString(),
                    Changes = JsonSerializer.Serialize(values),
                    At = DateTimeOffset.UtcNow,
                }
            );
        }
        return ValueTask.FromResult(result);
    }
}

/// <summary>
/// What a .NET team would otherwise write: EF Core with an audit interceptor, a new context per unit of work.
/// On SQLite each context gets a connection from the Spector store (same pool, same pragmas); on PostgreSQL the
/// same data source.
/// </summary>
internal sealed class EfCoreAccounts(SpectorStore store, NpgsqlDataSource? dataSource)
{
    private static readonly AuditInterceptor Interceptor = new();
    private readonly DbContextOptions<AuditedContext>? _postgresOptions = dataSource is null
        ? null
        : new DbContextOptionsBuilder<AuditedContext>().UseNpgsql(dataSource).AddInterceptors(Interceptor).Options;

    public async Task<Guid> InsertAsync(string owner, decimal balance)
    {
        var id = Guid.CreateVersion7();
        await UseAsync(async context =>
        {
            context.Accounts.Add(
                new EfAccount
                {
                    Id = id,
                    Owner = owner,
                    Balance = balance,
                }
            );
            await context.SaveChangesAsync();
        });
        return id;
    }

    public Task UpdateAsync(Guid id, decimal balance, string memo) =>
        UseAsync(async context =>
        {
            var account =
                await context.Accounts.FindAsync(id) ?? throw new InvalidOperationException($"no EF account {id}");
            account.Balance = balance;
            account.Memo = memo;
            await context.SaveChangesAsync();
        });

    /// <summary>Drops and creates EF Core's tables from its own model.</summary>
    public Task RecreateTablesAsync() =>
        UseAsync(async context =>
        {
            var connection = context.Database.GetDbConnection();
            await connection.ExecuteAsync("DROP TABLE IF EXISTS \"ef_audit\"; DROP TABLE IF EXISTS \"ef_accounts\";");
            await connection.ExecuteAsync(context.Database.GenerateCreateScript());
        });

    private async Task UseAsync(Func<AuditedContext, Task> work)
    {
        if (_postgresOptions is not null)
        {
            await using var context = new AuditedContext(_postgresOptions);
            await work(context);
            return;
        }
        await using DbConnection connection = await store.OpenConnectionAsync();
        var options = new DbContextOptionsBuilder<AuditedContext>()
            .UseSqlite(connection)
            .AddInterceptors(Interceptor)
            .Options;
        await using (var context = new AuditedContext(options))
            await work(context);
    }
}
