using System.Net;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Rectify.Api.Tests.DataValues;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Database;

/// <summary>
/// The pool hands connections back without <c>DISCARD ALL</c> (No Reset On Close, the default), which is only safe while no request
/// leaves session state behind. After each kind of request that sets anything (a push: SET LOCAL, a temp table, a
/// transaction-level advisory lock; a refused push, rolled back; a snapshot push and publish; the migrations' session
/// lock at start-up) every connection the pool holds is checked: no setting changed for the session, no temp table,
/// no advisory lock, no channel listened to, no transaction left open.
/// </summary>
public sealed class SessionStateTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    readonly ImportKit _kit = new(app);

    sealed class SessionState
    {
        public string[] Settings { get; init; } = [];
        public long TempTables { get; init; }
        public long AdvisoryLocks { get; init; }
        public long Channels { get; init; }
        public string? Transaction { get; init; }
    }

    const string StateSql = """
        SELECT ARRAY(SELECT name FROM pg_settings WHERE source = 'session' ORDER BY name) AS settings,
               (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()) AS temp_tables,
               (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS advisory_locks,
               (SELECT count(*) FROM pg_listening_channels()) AS channels,
               (SELECT pid::text || ' since ' || xact_start::text FROM pg_stat_activity WHERE pid <> pg_backend_pid()
                  AND datname = current_database() AND application_name = 'rectify-api' AND state LIKE 'idle in transaction%'
                ORDER BY pid LIMIT 1) AS transaction
        """;

    /// <summary>Whether the transaction seen (pid since start) is still open, unchanged, a second later.</summary>
    const string StillOpenSql = """
        SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid::text || ' since ' || xact_start::text = @transaction
                         AND state LIKE 'idle in transaction%')
        """;

    /// <summary>
    /// The state of every connection the app's pools (writes and reads) hold (more are opened than each has idle, so each
    /// is among them).
    /// </summary>
    async Task<IReadOnlyList<SessionState>> PooledSessionsAsync()
    {
        var topology = app.Services.GetRequiredService<Rectify.Api.Infrastructure.Database.DatabaseTopology>();
        var connections = new List<NpgsqlConnection>();
        try
        {
            foreach (var dataSource in new[] { topology.Primary, topology.PrimaryReads })
                for (var i = 0; i < 12; i++) connections.Add(await dataSource.OpenConnectionAsync(Ct));
            var states = new List<SessionState>();
            foreach (var connection in connections)
                states.Add(await connection.QuerySingleAsync<SessionState>(new CommandDefinition(StateSql, cancellationToken: Ct)));
            return states;
        }
        finally
        {
            foreach (var connection in connections) await connection.DisposeAsync();
        }
    }

    async Task AssertCleanAsync(string after)
    {
        foreach (var state in await PooledSessionsAsync())
        {
            Assert.True(state.Settings.Length == 0, $"after {after}: a connection keeps session settings {string.Join(", ", state.Settings)}");
            Assert.True(state.TempTables == 0, $"after {after}: a connection keeps {state.TempTables} temp table(s)");
            Assert.True(state.AdvisoryLocks == 0, $"after {after}: a connection holds {state.AdvisoryLocks} advisory lock(s)");
            Assert.True(state.Channels == 0, $"after {after}: a connection listens to {state.Channels} channel(s)");
            // The service's background work (webhook leases, the daily warnings run) is idle in its own short transactions
            // for a moment; a transaction a request left open is still the same one a second later.
            if (state.Transaction is not null) Assert.False(await StillOpenAsync(state.Transaction),
                $"after {after}: a connection is idle in a transaction ({state.Transaction})");
        }
    }

    async Task<bool> StillOpenAsync(string transaction)
    {
        await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(StillOpenSql, new { transaction }, cancellationToken: Ct));
    }

    [Fact]
    public async Task Start_up_leaves_nothing_and_the_pool_returns_connections_without_reset()
    {
        // No Reset On Close is what these tests make safe. Automatic preparation stays off: auto-prepared statements are
        // left corrupt after a rollback (npgsql/npgsql#6391), which desynchronised a pooled connection under the hostile fuzz.
        var connectionString = new NpgsqlConnectionStringBuilder(app.Services.GetRequiredService<NpgsqlDataSource>().ConnectionString);
        Assert.True(connectionString.NoResetOnClose);
        Assert.Equal(0, connectionString.MaxAutoPrepare);
        await AssertCleanAsync("start-up (migrations)");
    }

    [Fact]
    public async Task Reads_and_writes_leave_no_session_state()
    {
        var round = await _kit.Seed.RoundAsync();
        var issue = (await _kit.Seed.IssueAsync(round))["id"]!.GetValue<long>();
        await _kit.Seed.MeasureAsync(issue);
        using (var read = await _kit.Client.GetAsync($"/api/v1/issues/{issue}", Ct)) Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using (var list = await _kit.Client.GetAsync($"/api/v1/measures?round={round}", Ct)) Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        // The dashboard's functions (migration 0018) keep plans for the session, and nothing else.
        using (var dashboard = await _kit.Client.GetAsync($"/api/v1/rounds/{round}/dashboard", Ct))
            Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        await AssertCleanAsync("reads and writes of issues and measures");
    }

    [Fact]
    public async Task Pushes_applied_and_refused_leave_no_session_state()
    {
        var indicator = await _kit.IndicatorAsync();
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-05,10,"])));
        await AssertCleanAsync("an applied push");

        // strategy=create refuses an existing value inside the transaction, after the staging table and SET LOCAL.
        await ImportKit.RefusedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-05,11,"]), "strategy=create"));
        await AssertCleanAsync("a push refused at the database step");
    }

    [Fact]
    public async Task Snapshot_pushes_and_publication_leave_no_session_state()
    {
        var indicator = await _kit.IndicatorAsync();
        await _kit.PublishLockAsync(indicator, "2025-05");
        await AssertCleanAsync("a snapshot push and its publication");
    }
}
