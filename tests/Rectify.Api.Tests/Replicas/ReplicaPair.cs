using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Replicas;

/// <summary>
/// A PostgreSQL primary and a streaming standby of it (<c>pg_basebackup -R</c>), both throwaway clusters on loopback
/// started with the service's own embedded-cluster code, and the service over the two of them with a multi-host
/// connection string (<c>Host=primary,standby</c>). One pair per test class: each test leaves both servers running.
/// </summary>
public sealed class ReplicaPair : IAsyncLifetime
{
    const string Database = "rectify";

    public EmbeddedPostgres Primary { get; private set; } = null!;
    public EmbeddedPostgres Standby { get; private set; } = null!;
    public StandaloneApp App { get; private set; } = null!;

    /// <summary>
    /// The application role on the primary alone, for the tests' own writes and checks; unpooled, since the tests stop
    /// and start the primary.
    /// </summary>
    public string PrimaryConnectionString => Primary.AppConnectionString(Database) + ";Pooling=false";

    public string InspectedUnit => "460000";

    public async ValueTask InitializeAsync()
    {
        var stamp = $"{Environment.ProcessId}-{Guid.NewGuid():N}"[..20];
        var temp = Path.GetTempPath();
        Primary = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(Path.Combine(temp, $"rectify-tests-{stamp}-p"), Throwaway: true),
            _ => { }, CancellationToken.None);
        await Primary.CreateDatabaseAsync(Database, template: null, CancellationToken.None);
        await using (var dataSource = NpgsqlDataSource.Create(PrimaryConnectionString))
        {
            await Migrations.ApplyAsync(dataSource, NullLogger.Instance, CancellationToken.None);
            await using var connection = await dataSource.OpenConnectionAsync();
            await connection.ExecuteAsync("INSERT INTO units (code, name, kind) VALUES ('460000', '海南省', 'province')");
        }
        Standby = await Primary.StartStandbyAsync(new EmbeddedPostgresOptions(Path.Combine(temp, $"rectify-tests-{stamp}-s"), Throwaway: true), [],
            CancellationToken.None);

        var apiKey = await TestKeys.CreateAsync(PrimaryConnectionString, CancellationToken.None);
        // Host Recheck Seconds: how long Npgsql trusts what it last saw of a host (offline, primary, standby); short here so
        // that a server that is back is used again within a second or two.
        var multiHost = new NpgsqlConnectionStringBuilder(Primary.AppConnectionString(Database))
        {
            Host = $"127.0.0.1:{Primary.Port},127.0.0.1:{Standby.Port}", HostRecheckSeconds = 1, Timeout = 3, MaxPoolSize = 20,
        }.ConnectionString;
        App = new StandaloneApp(multiHost, new Dictionary<string, string>
        {
            ["Database:ReplicaCheckInterval"] = "00:00:00.5",
            ["Rectify:Snapshots:MonthEndDrafts"] = "false",
        }) { ApiKey = apiKey };
        _ = App.Server;
    }

    /// <summary>Sets <c>recovery_min_apply_delay</c> on the standby (a reload, no restart): commits become visible there this much later.</summary>
    public async Task DelayReplayAsync(TimeSpan delay)
    {
        await using var connection = new NpgsqlConnection(Standby.SuperuserConnectionString());
        await connection.OpenAsync();
        await connection.ExecuteAsync($"ALTER SYSTEM SET recovery_min_apply_delay = '{(int)delay.TotalMilliseconds}ms'");
        await connection.ExecuteAsync("SELECT pg_reload_conf()");
    }

    /// <summary>Waits until the standby has replayed everything the primary has written so far.</summary>
    public async Task CaughtUpAsync(TimeSpan within)
    {
        await using var primary = new NpgsqlConnection(Primary.SuperuserConnectionString());
        await primary.OpenAsync();
        var written = await primary.ExecuteScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text");
        await using var standby = new NpgsqlConnection(Standby.SuperuserConnectionString());
        await standby.OpenAsync();
        var deadline = DateTime.UtcNow + within;
        while (!await standby.ExecuteScalarAsync<bool>("SELECT pg_last_wal_replay_lsn() >= @written::pg_lsn", new { written }))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The standby did not replay up to {written} within {within}.");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await Standby.DisposeAsync();
        await Primary.DisposeAsync();
    }
}
