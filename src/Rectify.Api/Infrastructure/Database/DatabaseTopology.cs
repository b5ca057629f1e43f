using Npgsql;

namespace Rectify.Api.Infrastructure.Database;

/// <summary>
/// The database servers the service talks to. One host: every unit of work on it. Several (a multi-host connection
/// string, <c>Host=primary,standby1,standby2</c>): Npgsql's multi-host data source, writes and every transaction on the
/// primary (<see cref="TargetSessionAttributes.Primary"/>), reads of GET requests on a standby
/// (<see cref="TargetSessionAttributes.PreferStandby"/>), which falls back to the primary when no standby can be reached.
/// </summary>
/// <remarks>
/// Reads have a pool of their own whose connections prepare the statements they run repeatedly (Npgsql's automatic
/// preparation): PostgreSQL then parses and plans a read once per connection instead of on every request, which was
/// most of its time for a GET by id. Writes never do: an automatically prepared statement that fails inside a
/// transaction is left corrupt after the rollback (npgsql/npgsql#6391), and refused writes are routine. A failed read
/// forgets its connection's prepared statements (<see cref="Db"/>), so that no read inherits one.
/// </remarks>
public sealed class DatabaseTopology : IAsyncDisposable
{
    readonly NpgsqlDataSource _root;
    readonly NpgsqlDataSource _readRoot;

    DatabaseTopology(NpgsqlDataSource root, NpgsqlDataSource primary, NpgsqlDataSource readRoot, NpgsqlDataSource primaryReads,
        NpgsqlDataSource? reads, NpgsqlDataSource? streamedReads, IReadOnlyList<DatabaseHost> hosts, string? listenerConnectionString = null)
    {
        ListenerConnectionString = listenerConnectionString;
        _root = root;
        _readRoot = readRoot;
        Primary = primary;
        PrimaryReads = primaryReads;
        Reads = reads;
        StreamedReads = streamedReads;
        Hosts = hosts;
    }

    /// <summary>Writes, transactions, migrations, jobs: the primary, statements never prepared.</summary>
    public NpgsqlDataSource Primary { get; }

    /// <summary>
    /// Reads the primary serves: with one host, statements prepared automatically (a pool of their own); with standbys, the
    /// writes' data source (see <see cref="Create"/>).
    /// </summary>
    public NpgsqlDataSource PrimaryReads { get; }

    /// <summary>Reads that may be served by a standby, statements prepared automatically; null with one host.</summary>
    public NpgsqlDataSource? Reads { get; }

    /// <summary>
    /// Reads streamed to the caller (exports, file downloads) that may be served by a standby, statements never prepared:
    /// a caller that goes away ends them mid-statement, outside the read runner that forgets a failed read's statements.
    /// Null with one host (they take <see cref="Primary"/>'s pool).
    /// </summary>
    public NpgsqlDataSource? StreamedReads { get; }

    public bool HasStandbys => Reads is not null;

    /// <summary>
    /// The change listener's own connection (<see cref="ChangeListener"/>), outside every pool: a connection that LISTENs
    /// must not go back to one. Null with standbys, where nothing is cached.
    /// </summary>
    public string? ListenerConnectionString { get; }

    /// <summary>Each configured host on its own (for the replica monitor), when there are several; else none.</summary>
    public IReadOnlyList<DatabaseHost> Hosts { get; }

    /// <summary>The topology of <paramref name="connectionString"/> (writes) and <paramref name="readConnectionString"/> (reads).</summary>
    public static DatabaseTopology Create(string connectionString, string readConnectionString)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        var hosts = (settings.Host ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (hosts.Length < 2)
        {
            var single = new NpgsqlDataSourceBuilder(connectionString).Build();
            var singleReads = new NpgsqlDataSourceBuilder(readConnectionString).Build();
            var listener = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, ApplicationName = "rectify-api-changes" };
            return new DatabaseTopology(single, single, singleReads, singleReads, null, null, [], listener.ConnectionString);
        }
        var multi = new NpgsqlDataSourceBuilder(connectionString).BuildMultiHost();
        var multiReads = new NpgsqlDataSourceBuilder(readConnectionString).BuildMultiHost();
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
        // Reads the primary must serve (Consistency: strong, a key a standby does not know yet) share the writes' data source:
        // Npgsql keeps the state of each host (primary, standby, offline) per data source, and only the writes' is brought up
        // to date at once when the primary comes back; one of their own could still take it for offline (Host Recheck Seconds).
        var primary = multi.WithTargetSession(TargetSessionAttributes.Primary);
        return new DatabaseTopology(multi, primary, multiReads, primary, multiReads.WithTargetSession(TargetSessionAttributes.PreferStandby),
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
        await _readRoot.DisposeAsync();
        await _root.DisposeAsync();
    }
}

/// <summary>One configured database host (<c>name:port</c>) with a small pool of its own.</summary>
public sealed record DatabaseHost(string Name, NpgsqlDataSource DataSource);
