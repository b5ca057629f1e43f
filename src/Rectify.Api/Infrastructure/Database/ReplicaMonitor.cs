using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Rectify.Api.Infrastructure.Database;

/// <summary>One configured host as last seen: <c>primary</c>, <c>standby</c> or <c>unreachable</c>, and how far a standby is behind.</summary>
/// <param name="Host">The host and port as configured.</param>
/// <param name="Role">primary, standby or unreachable.</param>
/// <param name="LagSeconds">A standby's replay lag: seconds since the last transaction it replayed, 0 when it has replayed all it received.</param>
/// <param name="LagBytes">Bytes of WAL the primary has written that the standby has not replayed yet (when the primary answered too).</param>
/// <param name="CheckedAt">When it was looked at.</param>
public sealed record ReplicaStatus(string Host, string Role, double? LagSeconds, long? LagBytes, DateTime CheckedAt);

/// <summary>
/// Looks at every configured host every <see cref="DatabaseOptions.ReplicaCheckInterval"/> (only when standbys are
/// configured): whether it answers, whether it is a standby, and its replay lag. The metrics (<c>rectify.replica.lag</c>)
/// and the admin details of readiness read what it saw last.
/// </summary>
public sealed class ReplicaMonitor : BackgroundService
{
    readonly DatabaseTopology _topology;
    readonly TimeSpan _interval;
    readonly ILogger<ReplicaMonitor> _logger;
    volatile IReadOnlyList<ReplicaStatus> _last = [];

    public ReplicaMonitor(DatabaseTopology topology, IOptions<DatabaseOptions> options, DatabaseMetrics metrics, ILogger<ReplicaMonitor> logger)
    {
        _topology = topology;
        _interval = options.Value.ReplicaCheckInterval;
        _logger = logger;
        if (topology.HasStandbys) metrics.ObserveReplicas(() => _last);
    }

    /// <summary>What the last look saw (empty before the first, and with one host).</summary>
    public IReadOnlyList<ReplicaStatus> Last => _last;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_topology.HasStandbys) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await CheckAsync(stoppingToken);
                await Task.Delay(_interval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Looks at every host now (concurrently, each bounded by its connection timeout) and remembers what it saw.</summary>
    public async Task<IReadOnlyList<ReplicaStatus>> CheckAsync(CancellationToken ct)
    {
        var seen = await Task.WhenAll(_topology.Hosts.Select(host => ProbeAsync(host, ct)));
        var primaryLsn = seen.FirstOrDefault(s => s.Role == "primary").Lsn;
        var now = DateTime.UtcNow;
        var statuses = seen.Select(s => new ReplicaStatus(s.Host, s.Role, s.LagSeconds,
            s.Role == "standby" && primaryLsn is { } p && s.Lsn is { } r ? Behind(p, r) : null, now)).ToList();
        _last = statuses;
        return statuses;
    }

    static long Behind(NpgsqlLogSequenceNumber primary, NpgsqlLogSequenceNumber replayed)
        => (ulong)primary > (ulong)replayed ? (long)((ulong)primary - (ulong)replayed) : 0;

    const string ProbeSql = """
        SELECT pg_is_in_recovery(),
               CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,
               CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
                    ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8, 0) END
        """;

    async Task<(string Host, string Role, NpgsqlLogSequenceNumber? Lsn, double? LagSeconds)> ProbeAsync(DatabaseHost host, CancellationToken ct)
    {
        try
        {
            await using var connection = await host.DataSource.OpenConnectionAsync(ct);
            await using var command = new NpgsqlCommand(ProbeSql, connection) { CommandTimeout = 3 };
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            var standby = reader.GetBoolean(0);
            var lsn = reader.IsDBNull(1) ? (NpgsqlLogSequenceNumber?)null : reader.GetFieldValue<NpgsqlLogSequenceNumber>(1);
            return (host.Name, standby ? "standby" : "primary", lsn, standby ? Math.Max(0, reader.GetDouble(2)) : null);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException && !ct.IsCancellationRequested)
        {
            _logger.LogDebug("Database host {Host} did not answer the replica check: {Error}", host.Name, e.GetType().Name);
            host.DataSource.Clear();
            return (host.Name, "unreachable", null, null);
        }
    }
}
