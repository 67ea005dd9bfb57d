using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Spector.Testing;

namespace Spector.Tests.WebApi;

public enum Db
{
    Sqlite,
    Postgres,
}

/// <summary>
/// The web sample as a client sees it, over HTTP: created, read, changed, refused with problem details, its
/// history as JSON, and healthy. Each test starts the app on an empty database, which it migrates on startup.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class BankApiTests(Db db)
{
    private WebApplicationFactory<Program> _app = null!;
    private HttpClient _http = null!;
    private string? _file;
    private PostgresSchema? _schema;
    private readonly List<System.Diagnostics.Activity> _spans = [];

    [OneTimeSetUp]
    public void RequireDatabase()
    {
        if (db == Db.Postgres)
            PostgresServer.Require();
    }

    [SetUp]
    public async Task StartAppAsync()
    {
        var settings = new Dictionary<string, string?> { ["Spector:MigrateOnStartup"] = "true" };
        if (db == Db.Postgres)
        {
            _schema = await PostgresSchema.CreateAsync(PostgresServer.ConnectionString);
            settings["Spector:Dialect"] = "PostgreSql";
            settings["Spector:ConnectionString"] = _schema.DataSource.ConnectionString;
        }
        else
        {
            _file = Path.Combine(Path.GetTempPath(), $"spector-web-{Guid.NewGuid():N}.db");
            settings["Spector:ConnectionString"] = $"Data Source={_file}";
        }
        _spans.Clear();
        _app = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
            web.ConfigureAppConfiguration((_, configuration) => configuration.AddInMemoryCollection(settings))
                .ConfigureServices(services =>
                    services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(_spans))
                )
        );
        _http = _app.CreateClient();
    }

    [TearDown]
    public async Task StopAppAsync()
    {
        _http.Dispose();
        await _app.DisposeAsync();
        if (_schema is not null)
            await _schema.DisposeAsync();
        _schema = null;
        if (_file is null)
            return;
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            File.Delete(_file + suffix);
        _file = null;
    }

    /// <summary>Rows of the accounts table, read around the app: proves which database the app wrote to.</summary>
    private async Task<long> AccountRowsAsync()
    {
        System.Data.Common.DbConnection connection =
            db == Db.Postgres
                ? await _schema!.DataSource.OpenConnectionAsync()
                : new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_file}");
        await using (connection)
        {
            if (db == Db.Sqlite)
                await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM \"accounts\"";
            return Convert.ToInt64(await command.ExecuteScalarAsync());
        }
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Test]
    public async Task An_account_is_opened_credited_read_and_its_history_is_readable_JSON()
    {
        var opened = await _http.PostAsJsonAsync("/accounts", new { owner = "Ada" });
        Assert.That(opened.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var id = (await JsonAsync(opened)).GetProperty("id").GetGuid();
        Assert.That(opened.Headers.Location?.ToString(), Is.EqualTo($"/accounts/{id}"));
        Assert.That(await AccountRowsAsync(), Is.EqualTo(1), $"written to this test's {db} database");

        var credited = await _http.PostAsJsonAsync($"/accounts/{id}/deposits", new { value = 100.25m });
        Assert.That(credited.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var read = await JsonAsync(await _http.GetAsync($"/accounts/{id}"));
        Assert.That(read.GetProperty("balance").GetDecimal(), Is.EqualTo(100.25m));
        Assert.That(read.GetProperty("owner").GetString(), Is.EqualTo("Ada"));

        var history = await JsonAsync(await _http.GetAsync($"/events/{id}"));
        Assert.That(
            read.GetProperty("updatedAt").GetDateTimeOffset(),
            Is.EqualTo(history[1].GetProperty("insertedAt").GetDateTimeOffset())
                .And.GreaterThan(read.GetProperty("insertedAt").GetDateTimeOffset()),
            "a deposit moves UpdatedAt to its event's time"
        );
        Assert.That(
            history.EnumerateArray().Select(e => e.GetProperty("action").GetString()),
            Is.EqualTo(new[] { "insert", "deposit" })
        );
        var payload = history[1].GetProperty("payload");
        Assert.That(payload.ValueKind, Is.EqualTo(JsonValueKind.Object), "the payload is JSON, not a string of JSON");
        Assert.That(
            payload.GetProperty("amount").GetString(),
            Is.EqualTo("100.25"),
            "a decimal is stored as a string of its digits"
        );
        Assert.That(history[1].GetProperty("seq").GetInt64(), Is.EqualTo(2));
    }

    [Test]
    public async Task Refusals_are_problem_details_and_nothing_is_written()
    {
        var id = (await JsonAsync(await _http.PostAsJsonAsync("/accounts", new { owner = "Ada" })))
            .GetProperty("id")
            .GetGuid();

        var overdrawn = await _http.PostAsJsonAsync($"/accounts/{id}/withdrawals", new { value = 5m });
        Assert.That(overdrawn.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(overdrawn.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        var problem = await JsonAsync(overdrawn);
        Assert.That(
            problem.GetProperty("errors").GetProperty("amount")[0].GetString(),
            Is.EqualTo("is more than the balance")
        );
        Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("The withdraw was refused"));

        var nameless = await _http.PostAsJsonAsync("/accounts", new { owner = (string?)null });
        Assert.That(nameless.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await JsonAsync(nameless)).GetProperty("errors").TryGetProperty("owner", out _), Is.True);

        var stranger = Guid.CreateVersion7();
        var missingWrite = await _http.PostAsJsonAsync($"/accounts/{stranger}/deposits", new { value = 1m });
        Assert.That(missingWrite.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(
            (await JsonAsync(missingWrite)).GetProperty("detail").GetString(),
            Does.Contain(stranger.ToString())
        );
        Assert.That((await _http.GetAsync($"/accounts/{stranger}")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await _http.GetAsync($"/events/{stranger}")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

        var history = await JsonAsync(await _http.GetAsync($"/events/{id}"));
        Assert.That(history.GetArrayLength(), Is.EqualTo(1), "only the opening event was stored");
    }

    [Test]
    public async Task The_seq_is_an_ETag_a_stale_If_Match_is_refused_and_the_actor_header_is_stored()
    {
        var id = (await JsonAsync(await _http.PostAsJsonAsync("/accounts", new { owner = "Ada" })))
            .GetProperty("id")
            .GetGuid();
        var read = await _http.GetAsync($"/accounts/{id}");
        Assert.That(read.Headers.ETag?.Tag, Is.EqualTo("\"1\""));

        HttpRequestMessage Deposit(string? ifMatch, string? actor)
        {
            var message = new HttpRequestMessage(HttpMethod.Post, $"/accounts/{id}/deposits")
            {
                Content = JsonContent.Create(new { value = 10m }),
            };
            if (ifMatch is not null)
                message.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            if (actor is not null)
                message.Headers.Add("X-Actor", actor);
            return message;
        }
        Assert.That((await _http.SendAsync(Deposit("\"1\"", "ada"))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var stale = await _http.SendAsync(Deposit("\"1\"", "bob"));
        Assert.That(stale.StatusCode, Is.EqualTo(HttpStatusCode.PreconditionFailed));
        Assert.That(
            (await JsonAsync(stale)).GetProperty("detail").GetString(),
            Does.Contain("seq 1").And.Contain("at 2")
        );
        Assert.That(
            (await _http.SendAsync(Deposit("W/\"2\"", null))).StatusCode,
            Is.EqualTo(HttpStatusCode.BadRequest)
        );
        Assert.That(
            (await _http.SendAsync(Deposit(null, null))).StatusCode,
            Is.EqualTo(HttpStatusCode.OK),
            "no If-Match: no check"
        );
        Assert.That((await _http.GetAsync($"/accounts/{id}")).Headers.ETag?.Tag, Is.EqualTo("\"3\""));

        var history = await JsonAsync(await _http.GetAsync($"/events/{id}"));
        Assert.That(
            history
                .EnumerateArray()
                .Select(e =>
                    e.GetProperty("actor").ValueKind == JsonValueKind.Null ? null : e.GetProperty("actor").GetString()
                ),
            Is.EqualTo(new[] { null, "ada", null }),
            "the refused write stored nothing"
        );
        var read3 = await JsonAsync(await _http.GetAsync($"/accounts/{id}"));
        Assert.That(read3.GetProperty("balance").GetDecimal(), Is.EqualTo(20m));
    }

    [Test]
    public async Task Mistakes_in_the_actor_header_or_an_overflowing_amount_are_400s_and_the_account_stays_usable()
    {
        var id = (await JsonAsync(await _http.PostAsJsonAsync("/accounts", new { owner = "Ada" })))
            .GetProperty("id")
            .GetGuid();
        async Task<HttpResponseMessage> DepositAsync(decimal value, string? actor = null)
        {
            var message = new HttpRequestMessage(HttpMethod.Post, $"/accounts/{id}/deposits")
            {
                Content = JsonContent.Create(new { value }),
            };
            if (actor is not null)
                message.Headers.TryAddWithoutValidation("X-Actor", actor);
            return await _http.SendAsync(message);
        }

        var tooLong = await DepositAsync(1m, new string('a', 300));
        var control = await DepositAsync(1m, "tab\there");
        Assert.That(await DepositAsync(decimal.MaxValue), Has.Property("StatusCode").EqualTo(HttpStatusCode.OK));
        var overflow = await DepositAsync(1m);
        var negative = await _http.PostAsJsonAsync($"/accounts/{id}/withdrawals", new { value = -decimal.MaxValue });

        foreach (var refused in new[] { tooLong, control, overflow, negative })
        {
            Assert.That(
                refused.StatusCode,
                Is.EqualTo(HttpStatusCode.BadRequest),
                await refused.Content.ReadAsStringAsync()
            );
            Assert.That(refused.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        }
        Assert.That((await JsonAsync(tooLong)).GetProperty("detail").GetString(), Does.StartWith("X-Actor: "));
        Assert.That((await JsonAsync(control)).GetProperty("detail").GetString(), Does.Contain("U+0009"));
        Assert.That(
            (await JsonAsync(overflow)).GetProperty("errors").GetProperty("amount")[0].GetString(),
            Does.Contain("largest amount")
        );
        var withdrawn = await _http.PostAsJsonAsync($"/accounts/{id}/withdrawals", new { value = 1m });
        Assert.That(withdrawn.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the full account still takes writes");
        var read = await JsonAsync(await _http.GetAsync($"/accounts/{id}"));
        Assert.That(read.GetProperty("balance").GetDecimal(), Is.EqualTo(decimal.MaxValue - 1m));
        var history = await JsonAsync(await _http.GetAsync($"/events/{id}"));
        Assert.That(history.GetArrayLength(), Is.EqualTo(3), "insert, the one deposit, the one withdrawal");
    }

    [Test]
    public async Task A_request_span_holds_Spectors_write_span()
    {
        var opened = await _http.PostAsJsonAsync("/accounts", new { owner = "Ada" });
        var id = (await JsonAsync(opened)).GetProperty("id").GetGuid();
        // The server ends the request's span after the client has its response: wait for it to be exported.
        System.Diagnostics.Activity? request = null;
        for (var i = 0; i < 50 && request is null; i++)
        {
            _app.Services.GetRequiredService<TracerProvider>().ForceFlush();
            lock (_spans)
                request = _spans.SingleOrDefault(s =>
                    s.Source.Name == "Microsoft.AspNetCore" && s.DisplayName.StartsWith("POST")
                );
            if (request is null)
                await Task.Delay(100);
        }
        Assert.That(request, Is.Not.Null, "the request's span was exported");
        System.Diagnostics.Activity write;
        lock (_spans)
            write = _spans.Single(s => s.OperationName == "spector.write");
        Assert.That(write.ParentSpanId, Is.EqualTo(request!.SpanId));
        Assert.That(write.TraceId, Is.EqualTo(request.TraceId));
        // The stored event carries the request's trace id: the audit trail leads back to the request's trace.
        var stored = (await JsonAsync(await _http.GetAsync($"/events/{id}")))[0];
        Assert.That(stored.GetProperty("traceId").GetString(), Is.EqualTo(request.TraceId.ToHexString()));
        Assert.That(write.GetTagItem("spector.record_id"), Is.EqualTo(id.ToString()));
        Assert.That(write.GetTagItem("spector.table"), Is.EqualTo("bank_events"));
    }

    [Test]
    public async Task The_health_endpoint_reports_a_migrated_database_and_an_intact_chain()
    {
        await _http.PostAsJsonAsync("/accounts", new { owner = "Ada" });

        var health = await _http.GetAsync("/health");

        Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await health.Content.ReadAsStringAsync(), Is.EqualTo("Healthy"));
    }
}
