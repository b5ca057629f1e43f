using Npgsql;
using NpgsqlTypes;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Infrastructure.Database;

/// <summary>
/// Where one request's reads may be served, and what its writes committed: the request's own state, reached by
/// <see cref="Db"/> through <see cref="Current"/> (set by <see cref="ReadConsistencySetup.UseReadConsistency"/> for every
/// request). Work outside a request (start-up, background jobs) has none and reads from the primary.
/// </summary>
public sealed class ReadConsistency
{
    static readonly AsyncLocal<ReadConsistency?> Ambient = new();

    /// <summary>The current request's, or null outside a request.</summary>
    public static ReadConsistency? Current => Ambient.Value;

    readonly Lock _lock = new();
    readonly List<string> _servedBy = [];
    NpgsqlLogSequenceNumber? _committed;

    /// <param name="strong">Every read on the primary: <c>Consistency: strong</c>, and every request that is not a GET or HEAD.</param>
    /// <param name="minLsn">A standby serves a read only once it has replayed this far (<c>Min-LSN</c>); else the primary does.</param>
    public ReadConsistency(bool strong, NpgsqlLogSequenceNumber? minLsn)
    {
        Strong = strong;
        MinLsn = minLsn;
    }

    public bool Strong { get; }

    public NpgsqlLogSequenceNumber? MinLsn { get; }

    /// <summary>The servers that served this request's database work, e.g. <c>standby 127.0.0.1:5433</c>.</summary>
    public string? ServedBy
    {
        get { lock (_lock) return _servedBy.Count == 0 ? null : string.Join(", ", _servedBy); }
    }

    /// <summary>The WAL position after this request's last commit: a read presenting it sees the commit.</summary>
    public NpgsqlLogSequenceNumber? Committed
    {
        get { lock (_lock) return _committed; }
    }

    internal void Served(NpgsqlConnection connection)
    {
        var server = $"{(Db.IsStandby(connection) ? "standby" : "primary")} {connection.Host}:{connection.Port}";
        lock (_lock)
        {
            if (!_servedBy.Contains(server)) _servedBy.Add(server);
        }
    }

    internal void Commit(NpgsqlLogSequenceNumber lsn)
    {
        lock (_lock)
        {
            if (_committed is not { } earlier || lsn > earlier) _committed = lsn;
        }
    }

    /// <summary>Makes <paramref name="consistency"/> the current one for the rest of the calling flow.</summary>
    internal static void Begin(ReadConsistency consistency) => Ambient.Value = consistency;
}

/// <summary>The request headers that choose where reads are served, and the response headers that say what happened.</summary>
public static class ReadConsistencySetup
{
    public const string ConsistencyHeader = "Consistency";
    public const string MinLsnHeader = "Min-LSN";
    public const string ServedByHeader = "Served-By";
    public const string Strong = "strong";
    public const string Eventual = "eventual";

    /// <summary>
    /// Reads <c>Consistency</c> and <c>Min-LSN</c> (a malformed one is a 400 problem), and answers with <c>Min-LSN</c> after
    /// a write when the service reads from standbys, and <c>Served-By</c> to an admin key. Before access control, so that
    /// the key's own lookup follows the request's consistency.
    /// </summary>
    public static WebApplication UseReadConsistency(this WebApplication app)
    {
        var topology = app.Services.GetRequiredService<DatabaseTopology>();
        app.Use(async (http, next) =>
        {
            var request = http.Request;
            var consistency = request.Headers[ConsistencyHeader].ToString().Trim();
            var strong = consistency.Length == 0 || string.Equals(consistency, Eventual, StringComparison.OrdinalIgnoreCase)
                ? false
                : string.Equals(consistency, Strong, StringComparison.OrdinalIgnoreCase)
                    ? true
                    : throw Problem.Validation(ConsistencyHeader, "Consistency must be 'strong' (reads on the primary) or 'eventual' (the default).");
            var minLsnText = request.Headers[MinLsnHeader].ToString().Trim();
            NpgsqlLogSequenceNumber? minLsn = minLsnText.Length == 0 ? null
                : NpgsqlLogSequenceNumber.TryParse(minLsnText, out var parsed) ? parsed
                : throw Problem.Validation(MinLsnHeader, "Min-LSN must be a WAL position as a write answered it, such as 0/16B3740.");
            var state = new ReadConsistency(strong || !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)), minLsn);
            ReadConsistency.Begin(state);
            http.Response.OnStarting(() =>
            {
                if (topology.HasStandbys && state.Committed is { } committed) http.Response.Headers[MinLsnHeader] = committed.ToString();
                if (state.ServedBy is { } served && http.User.HasClaim(ApiKeyAuthentication.ScopeClaim, Scopes.Admin))
                    http.Response.Headers[ServedByHeader] = served;
                return Task.CompletedTask;
            });
            await next(http);
        });
        return app;
    }
}
