using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Rectify.Api.Tests.DataValues;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Snapshots;

namespace Rectify.Api.Tests.Telemetry;

/// <summary>
/// Traces: a request's HTTP span with the database spans under it. Metrics: /metrics (admin key) names the business and
/// database metrics. Logs: lines carry the request's trace id, never its key or body.
/// </summary>
public sealed class TelemetryTests(TelemetryApp app) : IClassFixture<TelemetryApp>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_request_is_one_trace_with_the_http_span_and_its_database_spans_under_it()
    {
        var trace = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/rounds");
        request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
        using var response = await app.Client().SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var spans = await SpansAsync(trace, s => s.Any(IsHttp) && s.Any(IsDatabase));
        var http = Assert.Single(spans, IsHttp);
        Assert.Equal(ActivityKind.Server, http.Kind);
        Assert.Equal(200, http.GetTagItem("http.response.status_code"));
        var database = spans.Where(IsDatabase).ToArray();
        Assert.NotEmpty(database);
        // Every database span hangs under the request's span (the key lookup and the query alike).
        Assert.All(database, span => Assert.Equal(http.SpanId, span.ParentSpanId));
        Assert.All(database, span => Assert.Equal(ActivityKind.Client, span.Kind));
        Assert.Contains(database,
            span => span.GetTagItem("db.query.text") is string sql && sql.Contains("FROM rounds", StringComparison.OrdinalIgnoreCase)
            || span.GetTagItem("db.statement") is string statement && statement.Contains("FROM rounds", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Metrics_name_pushes_rows_durations_publishes_refusals_and_the_database_circuit()
    {
        var kit = new ImportKit(app);
        var indicator = await kit.IndicatorAsync();
        await ImportKit.AppliedAsync(await kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460100,2025-01,5,", $"{indicator},460000,2025-01,7,"])));
        await ImportKit.RefusedAsync(await kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460100,2025-02,5,",
            $"{indicator},NO-SUCH-UNIT,2025-02,7,"])));
        var snapshots = new SnapshotKit(app);
        var round = await snapshots.RoundAsync();
        await snapshots.PushOkAsync(round, "2025-05", new { narrative = "5月" });
        await snapshots.PublishOkAsync(round, "2025-05");
        var limited = await LimitedClientAsync();
        for (var i = 0; i <= TelemetryApp.PushesPerMinute; i++)
            (await kit.PushBytesAsync(Encoding.UTF8.GetBytes(ImportKit.Csv([])), "text/csv", client: limited)).Dispose();

        var text = await ScrapeAsync(app.ApiKey);

        Assert.Matches("""(?m)^rectify_pushes_total\{[^}]*outcome="applied"[^}]*\} [1-9]""", text);
        Assert.Matches("""(?m)^rectify_pushes_total\{[^}]*outcome="refused"[^}]*\} [1-9]""", text);
        Assert.Matches("""(?m)^rectify_push_rows_total\{[^}]*outcome="inserted"[^}]*\} (?:[2-9]|[1-9][0-9]+)""", text);
        Assert.Matches("""(?m)^rectify_push_rows_total\{[^}]*outcome="rejected"[^}]*\} [1-9]""", text);
        Assert.Matches("""(?m)^rectify_push_duration_seconds_bucket\{""", text);
        Assert.Matches("""(?m)^rectify_snapshot_publishes_total\{[^}]*\} [1-9]""", text);
        Assert.Matches("""(?m)^rectify_rate_limit_refusals_total\{[^}]*client="metrics-limited"[^}]*limit="push"[^}]*\} 1(\s|$)""", text);
        Assert.Matches("""(?m)^rectify_db_circuit_state\{""", text);
        Assert.Matches("""(?m)^http_server_request_duration_seconds_bucket\{""", text);
    }

    [Fact]
    public async Task Metrics_are_for_admin_keys_only()
    {
        var reader = await app.CreateClientAsync("metrics-reader", ["read"]);
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", reader);
        using var forbidden = await client.GetAsync("/metrics", Ct);
        await forbidden.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        client.DefaultRequestHeaders.Authorization = null;
        using var anonymous = await client.GetAsync("/metrics", Ct);
        await anonymous.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Log_lines_of_a_request_carry_its_trace_id_and_never_its_key_or_body()
    {
        var kit = new ImportKit(app);
        var indicator = await kit.IndicatorAsync();
        const string marker = "机密备注-do-not-log";
        var trace = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, ImportKit.ImportUrl)
        {
            Content = new StringContent(ImportKit.Csv([$"{indicator},460100,2025-03,9,{marker}"]), Encoding.UTF8, "text/csv"),
        };
        request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
        using var response = await kit.Client.SendAsync(request, Ct);
        await ImportKit.AppliedAsync(response);

        // The push's own line ("Push … by test-suite") is written inside the request, under its trace.
        Assert.Contains(app.Logs,
            line => line.Contains("Push ", StringComparison.Ordinal) && line.Contains($"TraceId={trace}", StringComparison.Ordinal));
        Assert.DoesNotContain(app.Logs,
            line => line.Contains(app.ApiKey, StringComparison.Ordinal) || line.Contains(marker, StringComparison.Ordinal));
    }

    static bool IsHttp(Activity span) => span.Source.Name == "Microsoft.AspNetCore";

    static bool IsDatabase(Activity span) => span.Source.Name == "Npgsql";

    /// <summary>The trace's spans once <paramref name="complete"/> holds: the server span ends just after the response is sent.</summary>
    async Task<Activity[]> SpansAsync(ActivityTraceId trace, Func<Activity[], bool> complete)
    {
        for (var wait = Stopwatch.StartNew(); ; await Task.Delay(20, Ct))
        {
            var spans = app.Spans.Of(trace);
            if (complete(spans) || wait.Elapsed > TimeSpan.FromSeconds(10)) return spans;
        }
    }

    async Task<HttpClient> LimitedClientAsync()
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Bearer", await app.CreateClientAsync("metrics-limited", ["push"]));
        return client;
    }

    async Task<string> ScrapeAsync(string key)
    {
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.GetAsync("/metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        return await response.Content.ReadAsStringAsync(Ct);
    }
}
