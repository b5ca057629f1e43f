using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Faults;

/// <summary>
/// The database of a fault test, looked into behind the service's back: row counts, the service's backends in
/// pg_stat_activity, and locks that make a request wait at a chosen point of its transaction.
/// </summary>
public sealed class FaultDatabase(string connectionString)
{
    /// <summary>The service names its connections so; the tests' own connections are named otherwise and never counted.</summary>
    public const string ServiceApplicationName = "rectify-api";

    readonly string _connectionString = new NpgsqlConnectionStringBuilder(connectionString)
    {
        ApplicationName = "rectify-fault-tests", Pooling = false,
    }.ConnectionString;

    public string Name { get; } = new NpgsqlConnectionStringBuilder(connectionString).Database!;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(ct);
        return connection;
    }

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var connection = await OpenAsync(Ct);
        return await connection.ExecuteScalarAsync<T>(new CommandDefinition(sql, args, cancellationToken: Ct))
            ?? throw new InvalidOperationException("No value.");
    }

    /// <summary>Units <paramref name="prefix"/>-0001… under the province 460000 (inserted directly, as the tests' seed does).</summary>
    public async Task<string[]> UnitsAsync(string prefix, int count)
    {
        await ScalarAsync<int>("""
            INSERT INTO units (code, name, kind, parent_code) VALUES ('460000', '海南省', 'province', NULL) ON CONFLICT DO NOTHING;
            INSERT INTO units (code, name, kind, parent_code)
            SELECT @prefix || '-' || lpad(n::text, 4, '0'), '测试单位' || n, 'county', '460000' FROM generate_series(1, @count) n
            ON CONFLICT DO NOTHING;
            SELECT 1;
            """, new { prefix, count });
        return Enumerable.Range(1, count).Select(n => $"{prefix}-{n:D4}").ToArray();
    }

    /// <summary>The stored values of one indicator, by (unit, period).</summary>
    public async Task<Dictionary<(string Unit, string Period), (decimal Value, string? Comment)>> ValuesAsync(string indicator)
    {
        await using var connection = await OpenAsync(Ct);
        var rows = await connection.QueryAsync<(string Unit, string Period, decimal Value, string? Comment)>(new CommandDefinition("""
            SELECT d.unit_code, d.period, d.value, d.comment
            FROM data_values d JOIN indicators i ON i.id = d.indicator_id
            WHERE i.code = @indicator
            """, new { indicator }, cancellationToken: Ct));
        return rows.ToDictionary(r => (r.Unit, r.Period), r => (r.Value, r.Comment));
    }

    /// <summary>
    /// Applied pushes (of <paramref name="received"/> rows, when given), as the journal records them: one entry per push, in
    /// the transaction that applied it.
    /// </summary>
    public Task<long> PushJournalEntriesAsync(long? received = null)
        => ScalarAsync<long>("""
            SELECT count(*) FROM journal
            WHERE entity = 'data-values' AND action = 'import' AND (@received::bigint IS NULL OR (after->>'received')::bigint = @received)
            """, new { received });

    public Task<long> IdempotencyKeysAsync(string key) => ScalarAsync<long>("SELECT count(*) FROM idempotency_keys WHERE key = @key", new { key });

    /// <summary>The service's backends on this database that satisfy <paramref name="condition"/> (SQL over pg_stat_activity).</summary>
    public Task<long> ServiceBackendsAsync(string condition)
        => ScalarAsync<long>($"""
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = @database AND application_name = '{ServiceApplicationName}' AND ({condition})
            """, new { database = Name });

    /// <summary>Waits until a request of the service waits on a lock the test holds.</summary>
    public Task WaitForServiceBlockedAsync(TimeSpan within, Func<string>? context = null)
        => WaitUntilAsync(async () => await ServiceBackendsAsync("wait_event_type = 'Lock'") > 0, within,
            () => "a request of the service waiting on the test's lock" + (context is null ? "" : ": " + context()));

    /// <summary>
    /// <c>pg_terminate_backend</c> on the service's backends that wait on <paramref name="held"/>; how many were terminated.
    /// Only those: a background job's query that happens to be running at that moment is not the request under test.
    /// </summary>
    public Task<long> TerminateServiceBackendsBlockedByAsync(HeldLock held)
        => ScalarAsync<long>($"""
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE datname = @database AND application_name = '{ServiceApplicationName}' AND @holder = ANY (pg_blocking_pids(pid))
            """, new { database = Name, holder = held.ProcessId });

    /// <summary>
    /// Holds a lock in an open transaction of the test (for instance <c>SELECT … FOR UPDATE</c> of one value) so that a
    /// request that needs it waits there — a known point in the middle of its transaction.
    /// </summary>
    public async Task<HeldLock> LockAsync(string sql, object? args = null)
    {
        var connection = await OpenAsync(Ct);
        var transaction = await connection.BeginTransactionAsync(Ct);
        await connection.ExecuteAsync(new CommandDefinition(sql, args, transaction, cancellationToken: Ct));
        return new HeldLock(connection, transaction);
    }

    /// <summary>Locks the stored value of one key of <paramref name="indicator"/>: a push that changes it waits in its merge.</summary>
    public Task<HeldLock> LockValueAsync(string indicator, (string Unit, string Period) key)
        => LockAsync("""
            SELECT 1 FROM data_values d JOIN indicators i ON i.id = d.indicator_id
            WHERE i.code = @indicator AND d.unit_code = @unit AND d.period = @period
            FOR UPDATE OF d
            """, new { indicator, unit = key.Unit, period = key.Period });

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan within, Func<string> what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > within) throw new TimeoutException($"Waited {within.TotalSeconds} s for {what()}.");
            await Task.Delay(25, Ct);
        }
    }
}

/// <summary>A lock held by the test in an open transaction; released by rolling back (or by the connection dying).</summary>
public sealed class HeldLock(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
{
    /// <summary>The backend holding the lock.</summary>
    public int ProcessId => connection.ProcessID;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await transaction.RollbackAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // The fault under test (a restart, a terminated backend) already ended the transaction.
        }
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }
}

/// <summary>
/// A push with known content: <see cref="Keys"/> of one indicator, each with a value and comment derived from the
/// push's <see cref="Tag"/>, as the CSV body a scheduled job sends.
/// </summary>
public sealed class PushContent
{
    public const string ImportUrl = "/api/v1/data-values/import";

    public PushContent(string indicator, IReadOnlyList<(string Unit, string Period)> keys, long offset, string tag)
    {
        Tag = tag;
        var rows = new Dictionary<(string Unit, string Period), (decimal Value, string? Comment)>(keys.Count);
        var csv = new StringBuilder(keys.Count * 40).Append("indicator,unit,period,value,comment\r\n");
        for (var i = 0; i < keys.Count; i++)
        {
            var value = offset + i;
            rows[keys[i]] = (value, tag);
            csv.Append(indicator).Append(',').Append(keys[i].Unit).Append(',').Append(keys[i].Period).Append(',')
                .Append(value.ToString(CultureInfo.InvariantCulture)).Append(',').Append(tag).Append("\r\n");
        }
        Rows = rows;
        Body = Encoding.UTF8.GetBytes(csv.ToString());
    }

    public string Tag { get; }

    public IReadOnlyDictionary<(string Unit, string Period), (decimal Value, string? Comment)> Rows { get; }

    public byte[] Body { get; }

    public HttpRequestMessage Request(string? idempotencyKey, string query = "")
    {
        var content = new ByteArrayContent(Body);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        var request = new HttpRequestMessage(HttpMethod.Post, ImportUrl + (query.Length == 0 ? "" : "?" + query)) { Content = content };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return request;
    }

    /// <summary><paramref name="units"/> × the months from 2010-01 on, unit by unit.</summary>
    public static List<(string Unit, string Period)> Keys(IEnumerable<string> units, int months)
        => units.SelectMany(u => Enumerable.Range(0, months).Select(m => (u, $"{2010 + m / 12}-{m % 12 + 1:D2}"))).ToList();

    /// <summary>Values of <paramref name="stored"/> that differ from this push's rows or are missing: rows the push lost.</summary>
    public long Lost(IReadOnlyDictionary<(string Unit, string Period), (decimal Value, string? Comment)> stored)
        => Rows.LongCount(r => !stored.TryGetValue(r.Key, out var s) || s != r.Value);
}

/// <summary>Calls and checks on the service that the fault tests share.</summary>
public static class FaultApi
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A pushed monthly indicator, created through the API; its code.</summary>
    public static async Task<string> IndicatorAsync(HttpClient client)
    {
        var code = Seed.Unique("FAULT");
        using var response = await client.PostJsonAsync("/api/v1/indicators", new
        {
            code, name = "累计取消收费项目数", measureUnit = "项", valueType = "count", frequency = "monthly", regionAggregation = "sum",
            timeAggregation = "stock", direction = "higher_is_better",
        });
        await response.ShouldBeAsync(HttpStatusCode.Created);
        return code;
    }

    /// <summary>Sends a push and asserts that it was applied (200); its summary.</summary>
    public static async Task<JsonNode> PushAppliedAsync(HttpClient client, PushContent push, string? idempotencyKey = null)
    {
        using var request = push.Request(idempotencyKey);
        using var response = await client.SendAsync(request, Ct);
        return await response.ShouldBeAsync(HttpStatusCode.OK);
    }

    /// <summary>Waits until /health/ready answers 200.</summary>
    public static Task ReadyAsync(HttpClient client, TimeSpan within)
        => FaultDatabase.WaitUntilAsync(async () =>
        {
            using var response = await client.GetAsync("/health/ready", Ct);
            return response.StatusCode == HttpStatusCode.OK;
        }, within, () => "/health/ready to answer 200");

    /// <summary>A request that could not be served right now was refused cleanly: a 503 problem with Retry-After.</summary>
    public static async Task<JsonNode> RefusedAsync(HttpResponseMessage response)
    {
        Assert.True(response.Headers.RetryAfter is not null, $"A 503 without Retry-After: {await response.Content.ReadAsStringAsync(Ct)}");
        return await response.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);
    }

    /// <summary>Asserts that a health body names none of the database's details and no error text.</summary>
    public static void RevealsNothing(JsonNode body, string connectionString)
    {
        var text = body.ToJsonString();
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        string[] secrets =
        [
            settings.Host!, settings.Port.ToString(CultureInfo.InvariantCulture), settings.Database!, settings.Username!,
            settings.Password!, "Host=", "Password", "Exception", "Npgsql", "refused", "   at ", "SELECT",
        ];
        foreach (var secret in secrets) Assert.DoesNotContain(secret, text, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Writes a figure to the test output (shown with <c>--logger "console;verbosity=detailed"</c>).</summary>
    public static void Figure(string text) => TestContext.Current.TestOutputHelper?.WriteLine(text);
}
