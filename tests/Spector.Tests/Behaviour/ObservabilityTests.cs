using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Spector.Tests;

/// <summary>
/// What an operator sees: spans, metrics and logs of writes, replays, verifications and migrations, captured by
/// the OpenTelemetry SDK from a store whose options carry the logger. Nothing logs payloads or connection strings.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class ObservabilityTests(Db db) : DatabaseTest(db)
{
    private const string Secret = "payload-secret-4711";
    private CapturedTelemetry _telemetry = null!;
    private SpectorStore _store = null!;

    [SetUp]
    public void Capture()
    {
        _telemetry = new CapturedTelemetry();
        _store = StoreWith(new SpectorOptions { LoggerFactory = _telemetry.LoggerFactory });
    }

    [TearDown]
    public void StopCapturing() => _telemetry.Dispose();

    [Test]
    public async Task Writes_have_spans_with_table_action_record_seq_and_attempts_and_count_appends()
    {
        var user = await User.InsertAsync(_store, new Attrs { ["name"] = "Ada", ["email"] = Secret });
        user = await user.UpdateAsync(_store, new Attrs { ["age"] = 36 });
        await user.ArchiveAsync(_store, DateTimeOffset.UtcNow);
        _telemetry.Flush();

        var writes = _telemetry.SpansNamed("spector.write").ToList();
        Assert.That(
            writes.Select(s => s.GetTagItem("spector.action")),
            Is.EqualTo(new[] { "insert", "update", "archive" })
        );
        Assert.That(writes.Select(s => s.GetTagItem("spector.seq")), Is.EqualTo(new object[] { 1L, 2L, 3L }));
        Assert.That(writes.Select(s => s.GetTagItem("spector.record_id")), Is.All.EqualTo(user.Id.ToString()));
        Assert.That(writes.Select(s => s.GetTagItem("spector.table")), Is.All.EqualTo("events"));
        Assert.That(writes.Select(s => s.GetTagItem("spector.schema")), Is.All.EqualTo(0));
        Assert.That(writes.Select(s => s.GetTagItem("spector.attempts")), Is.All.EqualTo(1));
        Assert.That(writes.Select(s => s.Status), Is.All.EqualTo(ActivityStatusCode.Unset));

        // Each write after the insert replays the record inside its span.
        var replays = _telemetry.SpansNamed("spector.replay").ToList();
        Assert.That(replays.Select(r => r.GetTagItem("spector.events")), Is.EqualTo(new object[] { 1L, 2L }));
        Assert.That(replays.Select(r => r.ParentSpanId), Is.EqualTo(writes.Skip(1).Select(w => w.SpanId)));

        Assert.That(_telemetry.Sum("spector.events.appended", ("spector.table", "events")), Is.EqualTo(3));
        Assert.That(_telemetry.Sum("spector.events.appended", ("spector.action", "archive")), Is.EqualTo(1));
        Assert.That(_telemetry.Count("spector.write.duration", ("spector.outcome", "ok")), Is.EqualTo(3));
        Assert.That(
            _telemetry.Sum("spector.replay.length"),
            Is.EqualTo(3),
            "1 event read for the update, 2 for the archive"
        );
        Assert.That(_telemetry.AllLogText(), Does.Not.Contain(Secret));
    }

    [Test]
    public async Task A_refused_write_is_a_failed_span_with_its_outcome()
    {
        Assert.ThrowsAsync<ChangesetInvalidException>(() => User.InsertAsync(_store, new Attrs { ["email"] = Secret }));
        _telemetry.Flush();

        var write = _telemetry.SpansNamed("spector.write").Single();
        Assert.That(write.Status, Is.EqualTo(ActivityStatusCode.Error));
        Assert.That(write.GetTagItem("spector.outcome"), Is.EqualTo("invalid"));
        Assert.That(_telemetry.Count("spector.write.duration", ("spector.outcome", "invalid")), Is.EqualTo(1));
        Assert.That(_telemetry.Sum("spector.events.appended"), Is.EqualTo(0));
    }

    [Test]
    public async Task A_queued_writer_is_one_attempt_and_a_serialization_failure_is_an_error_outcome_and_a_warning()
    {
        var counter = await Counter.InsertAsync(_store, new Attrs { ["name"] = "hits" });
        await using var rival = await OpenAsync();
        await using (var rivalTx = await rival.BeginTransactionAsync())
        {
            await counter.UpdateAsync(new SpectorSession(rival, rivalTx), new Attrs { ["by"] = 1 });
            var queued = Task.Run(() => counter.UpdateAsync(_store, new Attrs { ["by"] = 1 }));
            await Task.Delay(200);
            await rivalTx.CommitAsync();
            Assert.That((await queued).Value, Is.EqualTo(2));
        }
        _telemetry.Flush();
        var write = _telemetry.SpansNamed("spector.write").Last();
        // Writers of one record queue on its head row: waiting is not a lost race, nothing is retried.
        Assert.That(write.GetTagItem("spector.attempts"), Is.EqualTo(1));
        Assert.That(write.GetTagItem("spector.seq"), Is.EqualTo(3L));
        Assert.That(_telemetry.Sum("spector.write.conflicts", ("spector.action", "update")), Is.Zero);
        Assert.That(_telemetry.Logs.Count(l => l.EventId.Id == 1001), Is.Zero);

        // A caller's snapshot the record has moved past: the database refuses the write; only the caller can retry.
        await using var caller = await OpenAsync();
        await using var callerTx = caller is Microsoft.Data.Sqlite.SqliteConnection sqlite
            ? sqlite.BeginTransaction(deferred: true)
            : await caller.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
        var session = new SpectorSession(caller, callerTx, _store);
        Assert.That((await Counter.GetAsync(session, counter.Id))!.Value, Is.EqualTo(2), "the snapshot is taken");
        await counter.UpdateAsync(_store, new Attrs { ["by"] = 1 });
        var refused = Assert.ThrowsAsync<SerializationFailureException>(() =>
            counter.UpdateAsync(session, new Attrs { ["by"] = 1 })
        );
        Assert.That(refused!.Attempts, Is.EqualTo(1));
        _telemetry.Flush();
        var gaveUp = _telemetry.Logs.Single(l => l.EventId.Id == 1002);
        Assert.That(gaveUp.LogLevel, Is.EqualTo(LogLevel.Warning));
        Assert.That(gaveUp.FormattedMessage, Does.Contain(counter.Id.ToString()).And.Contain("after 1 attempts"));
        Assert.That(
            _telemetry.SpansNamed("spector.write").Last().GetTagItem("spector.outcome"),
            Is.EqualTo("conflict")
        );
    }

    [Test]
    public async Task A_slow_replay_is_a_warning_naming_the_record_and_its_length_and_a_fast_one_is_not()
    {
        var user = await User.InsertAsync(_store, new Attrs { ["name"] = "Ada", ["email"] = Secret });
        await User.GetAsync(_store, user.Id);
        Assert.That(_telemetry.Logs.Where(l => l.EventId.Id == 1003), Is.Empty, "under the default 500 ms");

        var impatient = StoreWith(
            new SpectorOptions { LoggerFactory = _telemetry.LoggerFactory, SlowReplayThreshold = TimeSpan.FromTicks(1) }
        );
        await User.GetAsync(impatient, user.Id);

        var slow = _telemetry.Logs.Single(l => l.EventId.Id == 1003);
        Assert.That(slow.LogLevel, Is.EqualTo(LogLevel.Warning));
        Assert.That(slow.FormattedMessage, Does.Contain($"User {user.Id} in events: replay read 1 events"));
        Assert.That(
            _telemetry.AllLogText(),
            Does.Not.Contain(Secret).And.Not.Contain("Data Source=").And.Not.Contain("Host=")
        );
    }

    [Test]
    public async Task Verifications_report_results_in_spans_metrics_and_logs()
    {
        var wallet = await Wallet.InsertAsync(_store, new Attrs { ["owner"] = "Ann" });
        for (var i = 0; i < 3; i++)
            wallet = await wallet.DepositAsync(_store, 5m, Secret);
        await wallet.SavepointAsync(_store);

        var chain = await LedgerEvents.Log.VerifyHashChainAsync(_store);
        var savepoints = await Wallet.VerifySavepointsAsync(_store, wallet.Id);

        Assert.That(chain.IsValid && savepoints.IsValid, Is.True);
        _telemetry.Flush();
        var verifications = _telemetry.SpansNamed("spector.verify").ToList();
        Assert.That(
            verifications.Select(v => v.GetTagItem("spector.action")),
            Is.EqualTo(new[] { "chain", "savepoints" })
        );
        Assert.That(verifications[0].GetTagItem("spector.events"), Is.EqualTo(5L));
        Assert.That(verifications[0].GetTagItem("spector.outcome"), Is.EqualTo("intact"));
        Assert.That(_telemetry.Sum("spector.verify.events", ("spector.table", "ledger")), Is.EqualTo(5));
        Assert.That(_telemetry.Count("spector.verify.rate"), Is.EqualTo(1));
        Assert.That(
            _telemetry.Logs.Single(l => l.EventId.Id == 1005).FormattedMessage,
            Does.Contain("ledger verified: 5 events, intact")
        );
        Assert.That(
            _telemetry.Logs.Single(l => l.EventId.Id == 1007).FormattedMessage,
            Does.Contain("1 savepoints verified")
        );

        await DropAppendOnlyTriggersAsync("ledger");
        await ExecuteRawAsync(
            Database == Db.Postgres
                ? "UPDATE \"ledger\" SET \"payload\" = jsonb_set(\"payload\", '{amount}', '6') WHERE \"seq\" = 2"
                : "UPDATE \"ledger\" SET \"payload\" = json_set(\"payload\", '$.amount', 6) WHERE \"seq\" = 2"
        );
        var broken = await LedgerEvents.Log.VerifyHashChainAsync(_store);

        Assert.That(broken.IsValid, Is.False);
        _telemetry.Flush();
        var failed = _telemetry.SpansNamed("spector.verify").Last();
        Assert.That(failed.Status, Is.EqualTo(ActivityStatusCode.Error));
        Assert.That(failed.GetTagItem("spector.outcome"), Is.EqualTo("broken"));
        var error = _telemetry.Logs.Single(l => l.EventId.Id == 1006);
        Assert.That(error.LogLevel, Is.EqualTo(LogLevel.Error));
        Assert.That(
            error.FormattedMessage,
            Does.Contain("HashMismatch").And.Contain(broken.FirstBreak!.EventId.ToString())
        );
        Assert.That(_telemetry.AllLogText(), Does.Not.Contain(Secret));
    }

    [Test]
    public async Task Migrations_have_a_span_and_an_information_log()
    {
        await LedgerEvents.Log.MigrateDownAsync(_store);
        await LedgerEvents.Log.MigrateUpAsync(_store);
        _telemetry.Flush();

        var migrations = _telemetry.SpansNamed("spector.migrate").ToList();
        Assert.That(migrations.Select(m => m.GetTagItem("spector.action")), Is.EqualTo(new[] { "down", "up" }));
        Assert.That(migrations.Select(m => m.GetTagItem("spector.table")), Is.All.EqualTo("ledger"));
        var logs = _telemetry.Logs.Where(l => l.EventId.Id == 1004).ToList();
        Assert.That(logs.Select(l => l.LogLevel), Is.All.EqualTo(LogLevel.Information));
        var upStatements = LedgerEvents.Log.UpStatements(Dialect).Count;
        Assert.That(
            logs[1].FormattedMessage,
            Is.EqualTo(
                $"Events table ledger: migration up ran {upStatements} statements in "
                    + logs[1].FormattedMessage!.Split(" in ")[^1]
            )
        );
    }
}
