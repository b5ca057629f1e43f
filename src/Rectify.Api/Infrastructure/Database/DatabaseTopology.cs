using Npgsql;

namespace Rectify.Api.Infrastructure.Database;

/// <summary>
/// The database servers the service talks to. One host: every unit of work on it. Several (a multi-host connection
/// string, <c>Host=primary,standby1,standby2</c>): Npgsql's multi-host data source, writes and every transaction on the
/// primary (<see cref="TargetSessionAttributes.Primary"/>), reads of GET requests on a standby
/// (<see cref="TargetSessionAttributes.PreferStandby"/>), which falls back to the primary when no standby can be reached.
/// </summary>
public sealed class DatabaseTopology : IAsyncDisposable
{
    readonly NpgsqlDataSource _root;

    DatabaseTopology(NpgsqlDataSource root, NpgsqlDataSource primary, NpgsqlDataSource? reads, IReadOnlyList<DatabaseHost> hosts)
    {
        _root = root;
        Primary = primary;
        Reads = reads;
        Hosts = hosts;
    }

    /// <summary>Writes, transactions, migrations, jobs: the primary.</summary>
    public NpgsqlDataSource Primary { get; }

    /// <summary>Reads that may be served by a standby; null with one host.</summary>
    public NpgsqlDataSource? Reads { get; }

    public bool HasStandbys => Reads is not null;

    /// <summary>Each configured host on its own (for the replica monitor), when there are several; else none.</summary>
    public IReadOnlyList<DatabaseHost> Hosts { get; }

    public static DatabaseTopology Create(string connectionString)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        var hosts = (settings.Host ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (hosts.Length < 2)
        {
            var single = new NpgsqlDataSourceBuilder(connectionString).Build();
            return new DatabaseTopology(single, single, null, []);
        }
        var multi = new NpgsqlDataSourceBuilder(connectionString).BuildMultiHost();
        var each = hosts.Select(host =>
        {
            // The monitor's own small pool per host: a probe every few seconds, never a request's connection.
            var one = new NpgsqlConnectionStringBuilder(connectionString)
            {
                Host = host, MaxPoolSize = 2, MinPoolSize = 0, Timeout = 3, ApplicationName = "rectify-api-monitor",
            };
            if (NpgsqlHostPort(host) is { } split)
            {
                one.Host = split.Host;
                one.Port = split.Port;
            }
            return new DatabaseHost($"{one.Host}:{one.Port}", new NpgsqlDataSourceBuilder(one.ConnectionString).Build());
        }).ToList();
        return new DatabaseTopology(multi, multi.WithTargetSession(TargetSessionAttributes.Primary),
            multi.WithTargetSession(TargetSessionAttributes.PreferStandby), each);
    }

    static (string Host, int Port)? NpgsqlHostPort(string host)
    {
        var colon = host.LastIndexOf(':');
        return colon > 0 && !host.EndsWith(']')
            && int.TryParse(host[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture,
            out var port)
            ? (host[..colon], port)
            : null;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in Hosts) await host.DataSource.DisposeAsync();
        await _root.DisposeAsync();
    }
}

/// <summary>One configured database host (<c>name:port</c>) with a small pool of its own.</summary>
public sealed record DatabaseHost(string Name, NpgsqlDataSource DataSource);
