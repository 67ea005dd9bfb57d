using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Spector;
using Spector.Tool;
using WebApi;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSpector(builder.Configuration.GetSection("Spector"), o => o.EventsTables.Add(BankEvents.Log));
builder.Services.AddHealthChecks().AddSpectorDatabase().AddSpectorChain(BankEvents.Log);
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<SpectorProblems>();

// Spector's spans nest under each request's; add the exporter of your choice (OTLP, console) to these builders.
builder
    .Services.AddOpenTelemetry()
    .WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddSource(SpectorTelemetry.SourceName))
    .WithMetrics(metrics => metrics.AddMeter(SpectorTelemetry.MeterName));

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();

app.MapPost(
    "/accounts",
    async (SpectorStore store, OpenAccount body, HttpRequest request) =>
    {
        var attrs = new Attrs { ["owner"] = body.Owner };
        var account = await Account.InsertAsync(store, attrs, Versions.WriteOptions(request));
        return Results.Created($"/accounts/{account.Id}", account);
    }
);

// The seq of the account's last event is its ETag; a write that sends it back in If-Match is refused (412) when
// the account moved on meanwhile.
app.MapGet(
    "/accounts/{id:guid}",
    async (SpectorStore store, Guid id, HttpResponse response) =>
    {
        if (await Account.GetVersionedAsync(store, id) is not { } versioned)
            return Results.Problem(statusCode: 404, title: "No such account");
        response.Headers.ETag = Versions.ETag(versioned.Seq);
        return Results.Ok(versioned.Record);
    }
);

app.MapPost(
    "/accounts/{id:guid}/deposits",
    async (SpectorStore store, Guid id, Amount body, HttpRequest request) =>
        Results.Ok(await new Account { Id = id }.DepositAsync(store, body.Value, Versions.WriteOptions(request)))
);

app.MapPost(
    "/accounts/{id:guid}/withdrawals",
    async (SpectorStore store, Guid id, Amount body, HttpRequest request) =>
        Results.Ok(await new Account { Id = id }.WithdrawAsync(store, body.Value, Versions.WriteOptions(request)))
);

// The history as readable JSON: the payload is an object, not a string holding JSON.
app.MapGet(
    "/events/{id:guid}",
    async (SpectorStore store, Guid id) =>
    {
        var events = await Account.AllEventsAsync(store, id);
        return events.Count == 0
            ? Results.Problem(statusCode: 404, title: "No such account")
            : Results.Ok(
                events.Select(e => new
                {
                    e.Id,
                    e.Seq,
                    e.Action,
                    e.InsertedAt,
                    Actor = e.Actor?.Id,
                    e.TraceId,
                    e.Payload,
                })
            );
    }
);

app.MapHealthChecks("/health");

// `dotnet run -- spector verify` (or migrate, export, events <id>, ...) runs a spector command instead of the app.
return await app.RunSpectorCommandsAsync(args);

public record OpenAccount(string? Owner);

public record Amount(decimal Value);

/// <summary>Visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
