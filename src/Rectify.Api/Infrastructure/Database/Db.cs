using Dapper;
using Npgsql;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Rectify.Api.Infrastructure.Database;

public sealed class ResilienceOptions
{
    public const string Section = "Database:Resilience";
    public int MaxRetryAttempts { get; set; } = 3;
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan UnitOfWorkTimeout { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Bound of one bulk unit (a push of up to millions of values: copy, check, merge).</summary>
    public TimeSpan BulkTimeout { get; set; } = TimeSpan.FromMinutes(10);
    public double BreakerFailureRatio { get; set; } = 0.5;
    public int BreakerMinimumThroughput { get; set; } = 10;
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(20);
    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Runs units of database work (connection → transaction → commit) inside one resilience pipeline: an overall
/// timeout, retries with jittered back-off for transient errors where the work is safe to repeat, and a circuit
/// breaker shared by every request so that an unreachable database answers 503 fast instead of piling up.
/// </summary>
public sealed class Db
{
    readonly NpgsqlDataSource _dataSource;
    readonly ResiliencePipeline _repeatable;
    readonly ResiliencePipeline _once;
    readonly ResiliencePipeline _bulk;
    readonly CircuitBreakerStateProvider _circuit = new();
    long _breakEndsTicks;

    /// <summary>Closed while the database answers; open (requests refused fast with 503) after repeated transient failures.</summary>
    public CircuitState CircuitState => _circuit.CircuitState;

    /// <summary>
    /// Whether the circuit refuses work right now: isolated, or open and within its break. Polly reports an open
    /// circuit as open until the next unit of work runs as the trial, however long ago the break ended; a readiness
    /// probe that trusted that state would keep traffic away for good, and with it the trial that closes the circuit.
    /// </summary>
    public bool CircuitRefusing => CircuitState switch
    {
        CircuitState.Isolated => true,
        // Polly's breaker reads the system clock (no TimeProvider is given to it), so the break's end is taken on it too.
        CircuitState.Open => TimeProvider.System.GetUtcNow().UtcTicks < Interlocked.Read(ref _breakEndsTicks),
        _ => false,
    };

    public Db(NpgsqlDataSource dataSource, Microsoft.Extensions.Options.IOptions<ResilienceOptions> options, ILogger<Db> logger, DatabaseMetrics metrics)
    {
        _dataSource = dataSource;
        var settings = options.Value;
        metrics.ObserveCircuit(() => _circuit.CircuitState);
        // Polly handles every exception by default; only errors PostgreSQL or the network call transient may be retried.
        var transient = new PredicateBuilder().Handle<NpgsqlException>(e => e.IsTransient);
        var breaker = new CircuitBreakerStrategyOptions
        {
            ShouldHandle = transient,
            FailureRatio = settings.BreakerFailureRatio,
            MinimumThroughput = settings.BreakerMinimumThroughput,
            SamplingDuration = settings.BreakerSamplingDuration,
            BreakDuration = settings.BreakerBreakDuration,
            StateProvider = _circuit,
            OnOpened = args =>
            {
                Interlocked.Exchange(ref _breakEndsTicks, (TimeProvider.System.GetUtcNow() + args.BreakDuration).UtcTicks);
                metrics.CircuitOpened();
                logger.LogWarning("Database circuit opened for {Duration}", args.BreakDuration);
                return default;
            },
            OnClosed = _ => { logger.LogInformation("Database circuit closed"); return default; },
        };
        // One breaker instance, shared by every pipeline, so that reads, writes and pushes see the same database state.
        var sharedBreaker = new ResiliencePipelineBuilder().AddCircuitBreaker(breaker).Build();

        _repeatable = Retrying(new ResiliencePipelineBuilder().AddTimeout(settings.UnitOfWorkTimeout), settings, transient, logger, metrics)
            .AddPipeline(sharedBreaker)
            .Build();
        _once = new ResiliencePipelineBuilder()
            .AddTimeout(settings.UnitOfWorkTimeout)
            .AddPipeline(sharedBreaker)
            .Build();
        _bulk = Retrying(new ResiliencePipelineBuilder().AddTimeout(settings.BulkTimeout), settings, transient, logger, metrics)
            .AddPipeline(sharedBreaker)
            .Build();
    }

    static ResiliencePipelineBuilder Retrying(ResiliencePipelineBuilder builder, ResilienceOptions settings, PredicateBuilder<object> transient, ILogger logger,
        DatabaseMetrics metrics)
        => builder.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = transient,
            MaxRetryAttempts = settings.MaxRetryAttempts,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = settings.RetryBaseDelay,
            OnRetry = args =>
            {
                metrics.Retried();
                logger.LogWarning("Retrying database work after a transient error (attempt {Attempt})", args.AttemptNumber + 1);
                return default;
            },
        });

    /// <summary>Reads on one pooled connection; retried as a whole on transient errors.</summary>
    public async Task<T> ReadAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> read, CancellationToken ct)
        => await _repeatable.ExecuteAsync(async token =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(token);
            return await read(connection, token);
        }, ct);

    /// <summary>
    /// One page of a keyset-paged list: <paramref name="sql"/> fetches <c>LIMIT @limit</c> rows with
    /// <c>limit = page.EffectiveLimit + 1</c>, so that the extra row tells whether a next page exists.
    /// </summary>
    public Task<Http.Page<T>> PageAsync<TRow, T>(string sql, object args, Http.PageRequest page, Func<TRow, object> key, Func<TRow, T> map, CancellationToken ct)
        => ReadAsync(async (connection, token) =>
        {
            var rows = (await connection.QueryAsync<TRow>(new CommandDefinition(sql, args, cancellationToken: token))).AsList();
            return Http.Cursors.ToPage(rows, page.EffectiveLimit, key, map);
        }, ct);

    /// <summary>
    /// Every row of a keyset list for an export, read page by page as the consumer asks (see <see cref="Http.CsvExport.KeysetAsync{T}"/>).
    /// <paramref name="sql"/> is the list's own query: <paramref name="filters"/> plus <c>@after</c> and <c>@limit</c>.
    /// Everything is checked now, so that a bad filter or cursor is a problem before the file starts (the limit is
    /// checked by request validation before the handler runs).
    /// </summary>
    public IAsyncEnumerable<T> ExportAsync<TRow, T>(string sql, object filters, Http.PageRequest request, Func<TRow, T> map, Func<T, long> key, CancellationToken ct)
    {
        // An export is every row, so cursor and limit do not apply; a malformed one is refused all the same, as on the list.
        _ = request.After;
        return Http.CsvExport.KeysetAsync((after, limit, token) => ReadAsync<IReadOnlyList<T>>(async (connection, t) =>
            (await connection.QueryAsync<TRow>(new CommandDefinition(sql, KeysetArgs(filters, after, limit), cancellationToken: t))).Select(map).ToList(),
            token), key, ct);
    }

    /// <summary>A keyset list's parameters: its filters, the key to start after, and how many rows to read.</summary>
    public static DynamicParameters KeysetArgs(object filters, long after, int limit)
    {
        var args = new DynamicParameters(filters);
        args.Add("after", after);
        args.Add("limit", limit);
        return args;
    }

    /// <summary>
    /// A long unit of work that is safe to repeat as a whole (its input is spooled, its writes are merges): one
    /// transaction under the bulk timeout, retried on transient errors, committed only when <paramref name="work"/>
    /// says so (a dry run or a refused push rolls back).
    /// </summary>
    public async Task<T> BulkAsync<T>(Func<Tx, CancellationToken, Task<(T Result, bool Commit)>> work, CancellationToken ct)
        => await _bulk.ExecuteAsync(async token =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(token);
            await using var transaction = await connection.BeginTransactionAsync(token);
            var (result, commit) = await work(new Tx(connection, transaction), token);
            if (commit) await transaction.CommitAsync(token);
            else await transaction.RollbackAsync(token);
            return result;
        }, ct);

    /// <summary>
    /// Runs <paramref name="write"/> in one transaction and commits it. Not retried: a create or an update may
    /// have been applied when the connection broke at COMMIT (pass <paramref name="repeatable"/> where the
    /// work is idempotent by design, such as an upsert or a create guarded by an idempotency key).
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<Tx, CancellationToken, Task<T>> write, CancellationToken ct, bool repeatable = false)
        => await (repeatable ? _repeatable : _once).ExecuteAsync(async token =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(token);
            await using var transaction = await connection.BeginTransactionAsync(token);
            var result = await write(new Tx(connection, transaction), token);
            try
            {
                await transaction.CommitAsync(token);
            }
            catch (NpgsqlException e) when (e is not PostgresException && !repeatable)
            {
                throw new CommitOutcomeUnknownException(e);
            }
            return result;
        }, ct);
}

/// <summary>The connection and transaction of one unit of work, with Dapper shortcuts that always pass both and the token.</summary>
public sealed record Tx(NpgsqlConnection Connection, NpgsqlTransaction Transaction)
{
    public Task<IEnumerable<T>> QueryAsync<T>(string sql, object? args, CancellationToken ct)
        => Connection.QueryAsync<T>(new CommandDefinition(sql, args, Transaction, cancellationToken: ct));

    public Task<T?> QuerySingleOrDefaultAsync<T>(string sql, object? args, CancellationToken ct)
        => Connection.QuerySingleOrDefaultAsync<T>(new CommandDefinition(sql, args, Transaction, cancellationToken: ct));

    public Task<T> QuerySingleAsync<T>(string sql, object? args, CancellationToken ct)
        => Connection.QuerySingleAsync<T>(new CommandDefinition(sql, args, Transaction, cancellationToken: ct));

    public Task<int> ExecuteAsync(string sql, object? args, CancellationToken ct)
        => Connection.ExecuteAsync(new CommandDefinition(sql, args, Transaction, cancellationToken: ct));
}

/// <summary>The connection broke while committing: the change may or may not have been applied.</summary>
public sealed class CommitOutcomeUnknownException(Exception inner)
    : Exception("The connection to the database broke while committing.", inner);
