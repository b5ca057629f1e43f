using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Measures;

namespace Rectify.Api.Tests.Faults;

/// <summary>
/// <c>pg_terminate_backend</c> on the backend serving a request, held at a known point by a lock of the test: a unit
/// of work that is safe to repeat (a read, a push) is retried and succeeds, one that is not (an update) is refused
/// with a 503 problem and left unapplied — never a 500.
/// </summary>
public sealed class BackendTerminationTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly FaultDatabase _db = new(app.ConnectionString);

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// Starts <paramref name="send"/> while the test holds <paramref name="lockSql"/>, terminates the backend waiting on it,
    /// lets a retry (if any) wait on the lock again, then releases it; the answer and whether a retry was seen.
    /// </summary>
    async Task<(HttpResponseMessage Response, bool Retried)> TerminateWhileWaitingAsync(Func<Task<HttpResponseMessage>> send, string lockSql,
        object? args)
    {
        Task<HttpResponseMessage> sending;
        var retried = false;
        await using (var held = await _db.LockAsync(lockSql, args))
        {
            sending = send();
            await _db.WaitForServiceBlockedAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(1, await _db.TerminateServiceBackendsBlockedByAsync(held));
            // Either the request is answered (refused), or a retry of it on a new connection waits on the lock again.
            await FaultDatabase.WaitUntilAsync(async () => sending.IsCompleted || await _db.ServiceBackendsAsync("wait_event_type = 'Lock'") > 0,
                TimeSpan.FromSeconds(15), () => "the request to be answered or retried");
            retried = !sending.IsCompleted;
        }
        return (await sending, retried);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_read_whose_backend_is_terminated_is_retried_and_answered_200()
    {
        // The retry is counted on the Rectify.Database meter of this app (not of the other test apps in the process).
        var meters = app.Services.GetRequiredService<IMeterFactory>();
        long retries = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Name == "rectify.db.retries") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref retries, value));
        listener.Start();
        using var client = app.Client();
        var (response, retried) = await TerminateWhileWaitingAsync(() => client.GetAsync("/api/v1/rounds", Ct),
            "LOCK TABLE rounds IN ACCESS EXCLUSIVE MODE", null);
        using (response) await response.ShouldBeAsync(HttpStatusCode.OK);
        Assert.True(retried);
        Assert.True(Interlocked.Read(ref retries) >= 1, "the retry was not counted on rectify.db.retries");
        FaultApi.Figure(
            "pg_terminate_backend during a read (GET /api/v1/rounds waiting on a table lock): retried on a new connection, answered 200.");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_push_whose_backend_is_terminated_is_retried_and_lands_whole_or_is_refused_and_absent()
    {
        using var client = app.Client();
        var indicator = await FaultApi.IndicatorAsync(client);
        var keys = PushContent.Keys(await _db.UnitsAsync(Seed.Unique("TB"), 200), months: 100);
        await FaultApi.PushAppliedAsync(client, new PushContent(indicator, [keys[0]], offset: 0, "before"));
        var push = new PushContent(indicator, keys, offset: 1_000_000, "terminated");
        var idempotencyKey = Guid.NewGuid().ToString();

        var (response, retried) = await TerminateWhileWaitingAsync(() => client.SendAsync(push.Request(idempotencyKey), Ct), """
            SELECT 1 FROM data_values d JOIN indicators i ON i.id = d.indicator_id
            WHERE i.code = @indicator AND d.unit_code = @unit AND d.period = @period FOR UPDATE OF d
            """, new { indicator, unit = keys[0].Unit, period = keys[0].Period });

        string outcome;
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Assert.True((await response.ShouldBeAsync(HttpStatusCode.OK))["applied"]!.GetValue<bool>());
                outcome = "retried and applied (200)";
            }
            else
            {
                await FaultApi.RefusedAsync(response);
                Assert.Equal((0m, "before"), Assert.Single(await _db.ValuesAsync(indicator)).Value);
                Assert.Equal(0, await _db.IdempotencyKeysAsync(idempotencyKey));
                await FaultApi.PushAppliedAsync(client, push, idempotencyKey);
                outcome = "refused (503 problem), nothing written; the replay landed it";
            }
        }
        var stored = await _db.ValuesAsync(indicator);
        var lost = push.Lost(stored);
        var duplicated = await _db.PushJournalEntriesAsync(received: keys.Count) - 1; // this push, once
        Assert.Equal(0, lost);
        Assert.Equal(keys.Count, stored.Count);
        Assert.Equal(0, duplicated);
        FaultApi.Figure($"pg_terminate_backend during a {keys.Count}-row push (merge waiting on a row lock): {outcome}" +
                        $"{(retried ? "; the retry was seen waiting again" : "")}; rows lost {lost}, duplicated {duplicated}.");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_create_push_retried_after_its_backend_is_terminated_counts_each_rejected_row_once()
    {
        using var client = app.Client();
        var indicator = await FaultApi.IndicatorAsync(client);
        var keys = PushContent.Keys(await _db.UnitsAsync(Seed.Unique("TC"), 10), months: 100);
        // 50 values exist already (strategy=create rejects them); the last key is being inserted by the test's own open
        // transaction, so the push's insert waits on it — after the existing rows were found and rejected.
        await FaultApi.PushAppliedAsync(client, new PushContent(indicator, keys.GetRange(0, 50), offset: 0, "before"));
        var push = new PushContent(indicator, keys, offset: 1_000_000, "create");
        var last = keys[^1];

        var (response, retried) = await TerminateWhileWaitingAsync(() => client.SendAsync(push.Request(null, "strategy=create&atomic=false"), Ct), """
            INSERT INTO data_values (indicator_id, unit_code, period, value, source, created_at, updated_at)
            SELECT id, @unit, @period, -1, 'fault-tests', now(), now() FROM indicators WHERE code = @indicator
            """, new { indicator, unit = last.Unit, period = last.Period });

        using (response)
        {
            if (response.StatusCode != HttpStatusCode.OK) await FaultApi.RefusedAsync(response);
            else
            {
                // Every attempt starts from the body's own rejections: the retry does not add the existing rows again (CSV rows 2–51).
                var summary = await response.ShouldBeAsync(HttpStatusCode.OK);
                Assert.Equal(keys.Count, summary["received"]!.GetValue<long>());
                Assert.Equal(keys.Count - 50, summary["inserted"]!.GetValue<long>());
                Assert.Equal(50, summary["rejected"]!.GetValue<long>());
                Assert.Equal(50, summary["errors"]!.AsArray().Count);
                Assert.Equal(Enumerable.Range(2, 50), summary["errors"]!.AsArray().Select(e => (int)e!["row"]!.GetValue<long>()));
            }
        }
        FaultApi.Figure($"pg_terminate_backend during a create push with 50 existing values: {(retried ? "retried" : "refused")}, " +
                        $"answered {(int)response.StatusCode}; rejected rows counted once.");
    }

    [Fact(Timeout = 30_000)]
    public async Task An_update_whose_backend_is_terminated_is_refused_with_a_503_problem_and_not_applied()
    {
        var api = new MeasureApi(app);
        var (issueId, _) = await api.IssueAsync();
        var (id, etag, measure) = await api.CreateAsync(issueId);
        var body = MeasureApi.UpdateBody(measure, "in_progress");
        body["title"] = "终止连接时的修改";

        var (response, retried) = await TerminateWhileWaitingAsync(() => api.Client.PutJsonAsync($"/api/v1/measures/{id}", body, etag),
            "SELECT 1 FROM measures WHERE id = @id FOR UPDATE", new { id });
        string outcome;
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.OK)
            {
                // Allowed only because nothing had been sent to COMMIT: the retry is then the same update, once.
                Assert.Equal("\"2\"", response.ETag());
                outcome = "retried and applied (200)";
            }
            else
            {
                var problem = await FaultApi.RefusedAsync(response);
                Assert.False(retried);
                var (after, afterEtag) = await api.GetAsync(id);
                Assert.Equal(etag, afterEtag);
                Assert.Equal(measure["title"]!.GetValue<string>(), after["title"]!.GetValue<string>());
                outcome = $"refused ({problem["type"]!.GetValue<string>()}), not applied";
            }
        }
        // The caller re-reads and applies the change once.
        var (_, current) = await api.GetAsync(id);
        if (current == etag)
        {
            using var again = await api.Client.PutJsonAsync($"/api/v1/measures/{id}", body, etag);
            await again.ShouldBeAsync(HttpStatusCode.OK);
        }
        var (final, finalEtag) = await api.GetAsync(id);
        Assert.Equal("终止连接时的修改", final["title"]!.GetValue<string>());
        Assert.Equal("\"2\"", finalEtag);
        FaultApi.Figure($"pg_terminate_backend during a measure update (waiting on the row lock): {outcome}; re-sent with the same If-Match it " +
            $"applied once.");
    }
}
