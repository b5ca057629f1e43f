using Dapper;
using Npgsql;
using NpgsqlTypes;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Rectify.Api.Infrastructure.Database;

public sealed class ResilienceOptions
{
    public const string Section = "Database:Resilience";

    /// <summary>Retries of a unit of work that failed on a transient error of a working database (a broken connection, a deadlock).</summary>
    public int MaxRetryAttempts { get; set; } = 3;
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// A unit of work that finds the database down (connection refused, the server starting up or shutting down) is
    /// retried once, after this pause, and then refused: the caller gets its 503 at once instead of after seconds of back-off.
    /// </summary>
    public TimeSpan UnreachableRetryDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan UnitOfWorkTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Bound of one bulk unit (a push of up to millions of values: copy, check, merge), retries included.</summary>
    public TimeSpan BulkTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a bulk unit (a push, a snapshot push) keeps being retried after its first transient failure: it is atomic
    /// and idempotent, so a database restart of a few seconds costs a delay, not the work already received.
    /// </summary>
    public TimeSpan BulkRetryBudget { get; set; } = TimeSpan.FromSeconds(10);

    public double BreakerFailureRatio { get; set; } = 0.5;
    public int BreakerMinimumThroughput { get; set; } = 10;

    /// <summary>Short, so that the successes before an outage do not outweigh its failures for long.</summary>
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(3);
}

/// <summary>
/// Runs units of database work (connection → transaction → commit) inside one resilience pipeline: an overall
/// timeout, retries with jittered back-off for transient errors where the work is safe to repeat, and a circuit
/// breaker shared by every request so that an unreachable database answers 503 fast instead of piling up.
/// </summary>
/// <remarks>
/// The retry wraps the breaker, so that the breaker sees every attempt. It counts only failures that say the database
/// is gone (it cannot be reached, it is starting up or shutting down, a connection broke), not a deadlock or a
/// serialization failure of a working database. An interactive unit that finds the database gone is retried once,
/// briefly, and never while the circuit is open (a <see cref="BrokenCircuitException"/> is not retried): its caller
/// gets a 503 with Retry-After within milliseconds. A bulk unit is instead retried within a time budget, waiting out
/// an open circuit rather than failing on it: it is one unit of minutes of received work, not one of many callers,
/// and its attempts still go through the breaker, so they are counted and never hammer a database known to be down.
/// </remarks>
public sealed class Db
{
    readonly NpgsqlDataSource _dataSource;
    readonly NpgsqlDataSource _reads;
    readonly NpgsqlDataSource? _standbys;
    readonly NpgsqlDataSource? _streamedStandbys;
    readonly bool _recordCommits;
    readonly ResiliencePipeline _repeatable;
    readonly ResiliencePipeline _once;
    readonly ResiliencePipeline _bulk;
    readonly ResiliencePipeline _standbyReads;
    readonly Circuit _circuit = new();
    readonly Circuit _readCircuit;
    readonly TimeSpan _bulkRetryBudget;

    static readonly ResiliencePropertyKey<long> FirstFailure = new("rectify.db.first-failure");

    /// <summary>Closed while the database (the primary) answers; open (requests refused fast with 503) after repeated transient failures.</summary>
    public CircuitState CircuitState => _circuit.State;

    /// <summary>
    /// Whether the circuit refuses work right now: isolated, or open and within its break. Polly reports an open
    /// circuit as open until the next unit of work runs as the trial, however long ago the break ended; a readiness
    /// probe that trusted that state would keep traffic away for good, and with it the trial that closes the circuit.
    /// </summary>
    public bool CircuitRefusing => _circuit.Refusing;

    /// <summary>
    /// Whether reads are refused right now. With standbys configured, reads have a circuit of their own, so that a primary
    /// that is down refuses writes while standbys go on serving reads; with one server it is the same circuit.
    /// </summary>
    public bool ReadsRefusing => _readCircuit.Refusing;

    /// <summary>Whether reads of GET requests are served by standbys (a multi-host connection string).</summary>
    public bool HasStandbys => _standbys is not null;

    public Db(DatabaseTopology topology, Microsoft.Extensions.Options.IOptions<ResilienceOptions> options, ILogger<Db> logger,
        DatabaseMetrics metrics)
    {
        _dataSource = topology.Primary;
        _reads = topology.PrimaryReads;
        _standbys = topology.Reads;
        _streamedStandbys = topology.StreamedReads;
        _recordCommits = topology.HasStandbys;
        var settings = options.Value;
        _bulkRetryBudget = settings.BulkRetryBudget;
        metrics.ObserveCircuit(() => _circuit.State);
        // One breaker instance for the primary, shared by every pipeline, so that reads, writes and pushes see the same
        // database state; reads from standbys have their own.
        var sharedBreaker = Breaker(_circuit, "Database", settings, logger, metrics);
        _readCircuit = topology.HasStandbys ? new Circuit() : _circuit;
        var readBreaker = topology.HasStandbys ? Breaker(_readCircuit, "Read (standby)", settings, logger, metrics) : sharedBreaker;

        _repeatable = Repeatable(settings, logger, metrics, sharedBreaker, _circuit);
        _standbyReads = topology.HasStandbys ? Repeatable(settings, logger, metrics, readBreaker, _readCircuit) : _repeatable;
        _once = new ResiliencePipelineBuilder()
            .AddTimeout(settings.UnitOfWorkTimeout)
            .AddRetry(WaitForTrial(_circuit))
            .AddPipeline(sharedBreaker)
            .Build();
        _bulk = new ResiliencePipelineBuilder()
            .AddTimeout(settings.BulkTimeout)
            .AddRetry(Retry(settings, logger, metrics, new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e
                    && (IsTransient(e) || e is BrokenCircuitException) && BulkBudgetLeft(args.Context) > TimeSpan.Zero),
                // An open circuit is waited out (its trial may be another caller's); otherwise the usual back-off, capped below.
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(Min(
                    args.Outcome.Exception is BrokenCircuitException ? Max(_circuit.BreakLeft, settings.RetryBaseDelay) : null,
                    BulkBudgetLeft(args.Context))),
                MaxRetryAttempts = int.MaxValue,
                MaxDelay = TimeSpan.FromSeconds(1),
            }))
            .AddPipeline(sharedBreaker)
            .Build();
    }

    static ResiliencePipeline Breaker(Circuit circuit, string name, ResilienceOptions settings, ILogger logger, DatabaseMetrics metrics)
        => new ResiliencePipelineBuilder().AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsDatabaseGone(e)),
            FailureRatio = settings.BreakerFailureRatio,
            MinimumThroughput = settings.BreakerMinimumThroughput,
            SamplingDuration = settings.BreakerSamplingDuration,
            BreakDuration = settings.BreakerBreakDuration,
            StateProvider = circuit.Provider,
            OnOpened = args =>
            {
                circuit.Opened(args.BreakDuration);
                metrics.CircuitOpened();
                logger.LogWarning("{Circuit} circuit opened for {Duration}", name, args.BreakDuration);
                return default;
            },
            OnClosed = _ => { logger.LogInformation("{Circuit} circuit closed", name); return default; },
        }).Build();

    /// <summary>
    /// A unit refused because another caller's trial is in flight (the circuit half-open) waits for that trial's outcome
    /// and is tried once more: a refused unit has not run, so this is safe for any unit, and right after an outage it spares
    /// the callers beside the trial a 503 when the database is back. A unit refused within a break is not retried.
    /// </summary>
    static RetryStrategyOptions WaitForTrial(Circuit circuit) => new()
    {
        ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is BrokenCircuitException && !circuit.Refusing),
        MaxRetryAttempts = 1,
        BackoffType = DelayBackoffType.Constant,
        Delay = TimeSpan.Zero,
        DelayGenerator = async args =>
        {
            await circuit.TrialEndedAsync(args.Context.CancellationToken);
            return TimeSpan.Zero;
        },
    };

    ResiliencePipeline Repeatable(ResilienceOptions settings, ILogger logger, DatabaseMetrics metrics, ResiliencePipeline breaker, Circuit circuit)
        => new ResiliencePipelineBuilder()
            .AddTimeout(settings.UnitOfWorkTimeout)
            .AddRetry(Retry(settings, logger, metrics, new RetryStrategyOptions
            {
                // Polly handles every exception by default; only errors PostgreSQL or the network call transient may be retried,
                // and a database found gone only once, at once: a second failure is the caller's 503.
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsTransient(e)
                    && (!IsDatabaseGone(e) || args.AttemptNumber == 0)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                    args.Outcome.Exception is { } e && IsDatabaseGone(e) ? settings.UnreachableRetryDelay : null),
                MaxRetryAttempts = settings.MaxRetryAttempts,
            }))
            .AddRetry(WaitForTrial(circuit))
            .AddPipeline(breaker)
            .Build();

    RetryStrategyOptions Retry(ResilienceOptions settings, ILogger logger, DatabaseMetrics metrics, RetryStrategyOptions options)
    {
        options.BackoffType = DelayBackoffType.Exponential;
        options.UseJitter = true;
        options.Delay = settings.RetryBaseDelay;
        options.OnRetry = args =>
        {
            // The pool's idle connections died with the one that broke (a restart, a stop): without them the next attempt
            // opens a fresh connection, which works or is refused at once, instead of failing on dead connections one by one.
            if (args.Outcome.Exception is { } e && IsDatabaseGone(e))
            {
                _dataSource.Clear();
                _reads.Clear();
                _standbys?.Clear();
            }
            metrics.Retried();
            logger.LogWarning("Retrying database work after {Error} (attempt {Attempt}, in {Delay} ms)",
                args.Outcome.Exception?.GetType().Name, args.AttemptNumber + 1, (int)args.RetryDelay.TotalMilliseconds);
            return default;
        };
        return options;
    }

    /// <summary>What is left of a bulk unit's retry budget, which starts at its first failure.</summary>
    TimeSpan BulkBudgetLeft(ResilienceContext context)
    {
        var now = TimeProvider.System.GetTimestamp();
        if (!context.Properties.TryGetValue(FirstFailure, out var first))
        {
            context.Properties.Set(FirstFailure, now);
            first = now;
        }
        return _bulkRetryBudget - TimeProvider.System.GetElapsedTime(first, now);
    }

    static TimeSpan? Min(TimeSpan? delay, TimeSpan left) => delay is { } d && d < left ? d : delay is null ? null : left;

    static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Errors PostgreSQL or the network call transient: the same work may succeed when tried again.</summary>
    static bool IsTransient(Exception e) => e is NpgsqlException { IsTransient: true } || IsDatabaseGone(e);

    /// <summary>
    /// The database is not there to work with: a connection could not be opened (refused, the server starting up or
    /// shutting down), or one broke (network errors, timeouts, the backend terminated, PostgreSQL's connection exceptions,
    /// class 08). What the breaker counts; not the errors of a working database such as deadlocks.
    /// </summary>
    static bool IsDatabaseGone(Exception e) => e switch
    {
        CommitOutcomeUnknownException { InnerException: { } inner } => IsDatabaseGone(inner),
        PostgresException pg =>
            pg.SqlState is PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
            || pg.SqlState.StartsWith("08", StringComparison.Ordinal),
        NpgsqlException { IsTransient: true } => true,
        _ => false,
    };

    /// <summary>
    /// A connection from the pool; failing to get one (the database down or starting) is told apart from work that broke.
    /// Besides transient errors, that is any failure to open that is not PostgreSQL's answer (a multi-host data source
    /// that finds no suitable host says so without a transient cause).
    /// </summary>
    static async Task<NpgsqlConnection> OpenAsync(NpgsqlDataSource source, CancellationToken ct)
    {
        try
        {
            return await source.OpenConnectionAsync(ct);
        }
        catch (NpgsqlException e) when (e.IsTransient || e is not PostgresException)
        {
            throw new DatabaseUnreachableException(e);
        }
    }

    /// <summary>
    /// A connection to the primary (from the reads' pool for <paramref name="prepared"/> reads), noted as serving the current request.
    /// </summary>
    async Task<NpgsqlConnection> OpenAsync(CancellationToken ct, bool prepared = false)
    {
        var connection = await OpenAsync(prepared ? _reads : _dataSource, ct);
        ReadConsistency.Current?.Served(connection);
        return connection;
    }

    /// <summary>Whether the server of <paramref name="connection"/> is a standby (PostgreSQL 14+ reports <c>in_hot_standby</c>).</summary>
    public static bool IsStandby(NpgsqlConnection connection)
        => connection.PostgresParameters.TryGetValue("in_hot_standby", out var value) && value == "on";

    /// <summary>Whether the current request's reads may go to a standby: a GET or HEAD, not <c>Consistency: strong</c>.</summary>
    bool ReadsFromStandby => _standbys is not null && ReadConsistency.Current is { Strong: false };

    /// <summary>
    /// A connection for the current request's reads: a standby when it may (else the primary, see
    /// <see cref="ReadsFromStandby"/>); a standby that has not replayed the request's <c>Min-LSN</c> yet hands over to the primary.
    /// </summary>
    async Task<NpgsqlConnection> OpenForReadAsync(bool primary, CancellationToken ct, bool prepared = true)
    {
        if (primary || !ReadsFromStandby) return await OpenAsync(ct, prepared);
        var consistency = ReadConsistency.Current!;
        var connection = await OpenAsync(prepared ? _standbys! : _streamedStandbys!, ct);
        if (consistency.MinLsn is { } minLsn && IsStandby(connection) && !await ReplayedAsync(connection, minLsn, ct))
        {
            await connection.DisposeAsync();
            return await OpenAsync(ct, prepared);
        }
        consistency.Served(connection);
        return connection;
    }

    static async Task<bool> ReplayedAsync(NpgsqlConnection connection, NpgsqlLogSequenceNumber lsn, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT coalesce(pg_last_wal_replay_lsn() >= $1, false)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = lsn, NpgsqlDbType = NpgsqlDbType.PgLsn });
        return await command.ExecuteScalarAsync(ct) is true;
    }

    /// <summary>Reads on one pooled connection; retried as a whole on transient errors. A GET's reads may be served by a standby.</summary>
    public async Task<T> ReadAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> read, CancellationToken ct)
        => (await ReadServedAsync(read, primary: false, ct)).Result;

    /// <summary>
    /// A read that a standby may answer too early: when a standby found nothing (<paramref name="missing"/>), the primary
    /// is asked, unless it cannot be reached. For what is created elsewhere and used at once, such as a new API key.
    /// </summary>
    public async Task<T> ReadOrAskPrimaryAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> read, Func<T, bool> missing,
        CancellationToken ct)
    {
        var (result, standby) = await ReadServedAsync(read, primary: false, ct);
        if (!standby || !missing(result)) return result;
        try
        {
            return (await ReadServedAsync(read, primary: true, ct)).Result;
        }
        catch (Exception e) when (IsDatabaseGone(e) || e is BrokenCircuitException)
        {
            return result;
        }
    }

    async Task<(T Result, bool Standby)> ReadServedAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> read, bool primary,
        CancellationToken ct)
        => await (primary || !ReadsFromStandby ? _repeatable : _standbyReads).ExecuteAsync(async token =>
        {
            await using var connection = await OpenForReadAsync(primary, token);
            try
            {
                return (await read(connection, token), IsStandby(connection));
            }
            catch when (connection.State == System.Data.ConnectionState.Open)
            {
                ForgetPrepared(connection);
                throw;
            }
        }, ct);

    /// <summary>
    /// After a failed read, its connection forgets every statement it prepared, here and on the server, before it goes
    /// back to the pool: a statement being prepared when the read failed may be left corrupt (npgsql/npgsql#6391), and
    /// the next request on the connection would get a protocol error for it. Costs one round trip, on failures only.
    /// </summary>
    static void ForgetPrepared(NpgsqlConnection connection)
    {
        try
        {
            connection.UnprepareAll();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // The connection broke meanwhile: Npgsql does not pool a broken connection, so nothing is left to forget.
        }
    }

    /// <summary>
    /// A connection for a read streamed to the caller outside the resilience pipeline (an export), routed as
    /// <see cref="ReadAsync{T}"/> routes, its statements never prepared (<see cref="DatabaseTopology.StreamedReads"/>); the caller
    /// disposes it.
    /// </summary>
    public Task<NpgsqlConnection> OpenReadConnectionAsync(CancellationToken ct) => OpenForReadAsync(primary: false, ct, prepared: false);

    /// <summary>
    /// With standbys configured, the WAL position after the current request's commit, for its <c>Min-LSN</c> answer:
    /// the insert position, which is at or past the commit record. Best effort: a connection that broke after
    /// committing leaves the answer without it.
    /// </summary>
    async Task RecordCommitAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        if (!_recordCommits || ReadConsistency.Current is not { } consistency) return;
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_current_wal_insert_lsn()", connection);
            if (await command.ExecuteScalarAsync(ct) is NpgsqlLogSequenceNumber lsn) consistency.Commit(lsn);
        }
        catch (NpgsqlException)
        {
        }
    }

    /// <summary>
    /// One page of a keyset-paged list: <paramref name="sql"/> fetches <c>LIMIT @limit</c> rows with
    /// <c>limit = page.EffectiveLimit + 1</c>, so that the extra row tells whether a next page exists.
    /// </summary>
    public Task<Http.Page<T>> PageAsync<TRow,
        T>(string sql, object args, Http.PageRequest page, Func<TRow, object> key, Func<TRow, T> map, CancellationToken ct)
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
    public IAsyncEnumerable<T> ExportAsync<TRow,
        T>(string sql, object filters, Http.PageRequest request, Func<TRow, T> map, Func<T, long> key, CancellationToken ct)
    {
        // An export is every row, so cursor and limit do not apply; a malformed one is refused all the same, as on the list.
        _ = request.After;
        return Http.CsvExport.KeysetAsync((after, limit, token) => ReadAsync<IReadOnlyList<T>>(async (connection, t) =>
            (await connection.QueryAsync<TRow>(new CommandDefinition(sql, KeysetArgs(filters, after, limit), cancellationToken: t))).Select(map)
                .ToList(),
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
    {
        // A context of this unit's own: it carries the start of the retry budget from attempt to attempt.
        var context = ResilienceContextPool.Shared.Get(ct);
        try
        {
            return await _bulk.ExecuteAsync(static async (context, work) =>
            {
                var token = context.CancellationToken;
                await using var connection = await work.Db.OpenAsync(token);
                await using var transaction = await connection.BeginTransactionAsync(token);
                var (result, commit) = await work.Run(new Tx(connection, transaction), token);
                if (commit)
                {
                    await transaction.CommitAsync(token);
                    await work.Db.RecordCommitAsync(connection, token);
                }
                else await transaction.RollbackAsync(token);
                return result;
            }, context, (Db: this, Run: work));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>A bulk unit of work (see <see cref="BulkAsync{T}"/>) that always commits what it did.</summary>
    public Task<T> BulkWriteAsync<T>(Func<Tx, CancellationToken, Task<T>> write, CancellationToken ct)
        => BulkAsync(async (tx, token) => (await write(tx, token), true), ct);

    /// <summary>
    /// Lets each circuit whose break is over try its database once, now, so that a readiness probe rather than the next
    /// caller's request learns whether the database is back (a circuit in its trial refuses every other caller); waits
    /// briefly for a trial already in flight. A closed circuit, or one within its break, is left alone.
    /// </summary>
    public async Task TryCircuitsAsync(CancellationToken ct)
    {
        await TryCircuitAsync(_circuit, _once, _dataSource, ct);
        if (_standbys is not null) await TryCircuitAsync(_readCircuit, _standbyReads, _standbys, ct);
    }

    static async Task TryCircuitAsync(Circuit circuit, ResiliencePipeline pipeline, NpgsqlDataSource source, CancellationToken ct)
    {
        if (circuit.State == CircuitState.Closed || circuit.Refusing) return;
        try
        {
            await pipeline.ExecuteAsync(async token =>
            {
                await using var connection = await OpenAsync(source, token);
                await connection.ExecuteScalarAsync(new CommandDefinition("SELECT 1", cancellationToken: token));
            }, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The circuit has recorded the outcome (or another caller's trial is in flight): its state says what it is.
        }
        await circuit.TrialEndedAsync(ct);
    }

    /// <summary>
    /// Runs <paramref name="write"/> in one transaction and commits it. Not retried: a create or an update may
    /// have been applied when the connection broke at COMMIT (pass <paramref name="repeatable"/> where the
    /// work is idempotent by design, such as an upsert or a create guarded by an idempotency key).
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<Tx, CancellationToken, Task<T>> write, CancellationToken ct, bool repeatable = false)
        => await (repeatable ? _repeatable : _once).ExecuteAsync(async token =>
        {
            await using var connection = await OpenAsync(token);
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
            await RecordCommitAsync(connection, token);
            return result;
        }, ct);
}

/// <summary>
/// One circuit breaker's state, and the end of its current break: Polly reports an open circuit as open until the next
/// unit of work runs as the trial, however long ago the break ended.
/// </summary>
sealed class Circuit
{
    long _breakEndsTicks;

    public CircuitBreakerStateProvider Provider { get; } = new();

    public CircuitState State => Provider.CircuitState;

    // Polly's breaker reads the system clock (no TimeProvider is given to it), so the break's end is taken on it too.
    public TimeSpan BreakLeft => TimeSpan.FromTicks(Interlocked.Read(ref _breakEndsTicks) - TimeProvider.System.GetUtcNow().UtcTicks);

    /// <summary>Isolated, or open and within its break.</summary>
    public bool Refusing => State switch
    {
        CircuitState.Isolated => true,
        CircuitState.Open => BreakLeft > TimeSpan.Zero,
        _ => false,
    };

    /// <summary>Waits, a bounded while, for a trial in flight (half-open) to close or open the circuit again.</summary>
    public async Task TrialEndedAsync(CancellationToken ct)
    {
        for (var waited = TimeSpan.Zero; State == CircuitState.HalfOpen && waited < TrialWait; waited += TrialPoll)
            await Task.Delay(TrialPoll, ct);
    }

    static readonly TimeSpan TrialPoll = TimeSpan.FromMilliseconds(20);
    static readonly TimeSpan TrialWait = TimeSpan.FromSeconds(2);

    public void Opened(TimeSpan breakDuration)
        => Interlocked.Exchange(ref _breakEndsTicks, (TimeProvider.System.GetUtcNow() + breakDuration).UtcTicks);
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

/// <summary>A connection to the database could not be opened: it is down, starting up, shutting down or out of reach.</summary>
public sealed class DatabaseUnreachableException(NpgsqlException inner)
    : NpgsqlException("The database cannot be reached.", inner)
{
    public override bool IsTransient => true;
}

/// <summary>The connection broke while committing: the change may or may not have been applied.</summary>
public sealed class CommitOutcomeUnknownException(Exception inner)
    : Exception("The connection to the database broke while committing.", inner);
