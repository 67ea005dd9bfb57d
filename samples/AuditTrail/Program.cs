using System.Globalization;
using AuditTrailSample;
using Spector;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;

// An embedded SQLite file: no server, no setup. Start from an empty file each run.
var file = Path.Combine(Path.GetTempPath(), "spector-audit-trail.db");
foreach (var suffix in new[] { "", "-wal", "-shm" })
    File.Delete(file + suffix);
await Demo.RunAsync(SpectorStore.Sqlite($"Data Source={file}"), Console.Out);
