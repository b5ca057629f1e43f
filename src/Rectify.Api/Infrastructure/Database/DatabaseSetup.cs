using Dapper;
using Npgsql;

namespace Rectify.Api.Infrastructure.Database;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>Folder of the embedded development cluster; <c>.local/postgres</c> under the content root when empty.</summary>
    public string? EmbeddedRoot { get; set; }

    /// <summary>Port of the embedded cluster; a free loopback port (then remembered) when empty.</summary>
    public int? EmbeddedPort { get; set; }

    /// <summary>Whether start-up loads the reference case as demo data (idempotent).</summary>
    public bool LoadDemoData { get; set; } = true;

    /// <summary>
    /// Largest number of connections in each of an API node's two pools (reads and writes); 0 (the default) fits it to the
    /// node's cores: four per core, at least 8. PostgreSQL's throughput peaks at a few active connections per core, and more
    /// of them only queue there.
    /// </summary>
    public int MaxPoolSize { get; set; }

    /// <summary>The pool size to use: <see cref="MaxPoolSize"/>, or the one fitted to <paramref name="cores"/>.</summary>
    public int PoolSizeFor(int cores) => MaxPoolSize > 0 ? MaxPoolSize : Math.Max(8, 4 * cores);

    /// <summary>
    /// Largest number of connections in the reads' pool when it should differ from <see cref="MaxPoolSize"/> (0, the
    /// default: the same). It wins over a Maximum Pool Size in the connection string, for the reads' pool only.
    /// </summary>
    public int MaxReadPoolSize { get; set; }

    /// <summary>
    /// How many statements each connection of the reads' pool keeps prepared (Npgsql's Max Auto Prepare, the most used
    /// ones); 0 turns automatic preparation off. Writes never prepare (see <see cref="DatabaseTopology"/>).
    /// </summary>
    public int PreparedReadStatements { get; set; } = 64;

    /// <summary>How often each host of a multi-host connection string is looked at for the replica lag metric and readiness details.</summary>
    public TimeSpan ReplicaCheckInterval { get; set; } = TimeSpan.FromSeconds(5);
}

public static class DatabaseSetup
{
    public const string ConnectionStringName = "Rectify";

    /// <summary>
    /// One <see cref="NpgsqlDataSource"/> for the process, the database unit-of-work runner, and the start-up work
    /// (migrations, then the <see cref="IDatabaseStartupStep"/>s the composition root registers). The database is the
    /// configured connection string, else <paramref name="embedded"/>, which <see cref="EmbeddedDatabase.StartUnlessConfiguredAsync"/>
    /// started before the host was built: nothing in dependency injection waits for a cluster to start.
    /// </summary>
    public static IServiceCollection AddRectifyDatabase(this IServiceCollection services, IConfiguration configuration, EmbeddedDatabase embedded)
    {
        DapperTypeHandlers.Register();
        services.Configure<DatabaseOptions>(configuration.GetSection(DatabaseOptions.Section));
        services.AddSingleton(embedded);
        services.AddSingleton(sp => CreateTopology(
            configuration.GetConnectionString(ConnectionStringName) is { } configured && !string.IsNullOrWhiteSpace(configured)
                ? configured
                : embedded.ConnectionString
                    ?? throw new InvalidOperationException("No connection string is configured and no embedded cluster runs."),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<DatabaseOptions>>().Value));
        // Writes, transactions, migrations and jobs take the primary; Db alone reads from standbys (see DatabaseTopology).
        services.AddSingleton(sp => sp.GetRequiredService<DatabaseTopology>().Primary);
        services.AddSingleton<ReplicaMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<ReplicaMonitor>());
        services.AddSingleton<DatabaseMetrics>();
        services.AddSingleton<Db>();
        services.AddSingleton<DatabaseReadiness>();
        services.AddHostedService<DatabaseStartup>();
        return services;
    }

    static DatabaseTopology CreateTopology(string connectionString, DatabaseOptions options)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // What the connection string names wins. (Npgsql's ContainsKey answers whether a keyword is known, not whether it
        // was given: Keys holds the given ones, by their canonical names.)
        bool Given(string keyword) => builder.Keys.Contains(keyword, StringComparer.OrdinalIgnoreCase);
        if (!Given("Maximum Pool Size")) builder.MaxPoolSize = options.PoolSizeFor(Environment.ProcessorCount);
        if (!Given("GSS Encryption Mode")) builder.GssEncryptionMode = GssEncryptionMode.Disable;
        // A connection goes back to the pool without DISCARD ALL: no request leaves session state behind
        // (Database/SessionStateTests checks every kind that sets any), and the session keeps what PostgreSQL caches for it:
        // the plans of the dashboard's functions (migration 0018) and the reads' prepared statements.
        if (!Given("No Reset On Close")) builder.NoResetOnClose = true;
        builder.ApplicationName ??= "rectify-api";
        // Automatic preparation for the reads' pool only: with it on writes, the hostile fuzz got "Received unexpected
        // backend message DataRow" from a pooled connection after refused writes (a 500): auto-prepared statements are
        // left corrupt after a rollback (npgsql/npgsql#6391, open). Reads forget theirs when one fails (Db).
        var reads = new NpgsqlConnectionStringBuilder(builder.ConnectionString);
        if (!Given("Max Auto Prepare"))
        {
            builder.MaxAutoPrepare = 0;
            reads.MaxAutoPrepare = Math.Max(0, options.PreparedReadStatements);
            reads.AutoPrepareMinUsages = 2;
            // Prepared reads keep one generic plan: with the default, PostgreSQL re-planned the series' statement on every
            // call (its generic plan looked costlier to it than the custom ones) — 0.34 ms of planning, and its custom plans
            // executed slower (1.05 ms against 0.45 at national scale; tests/Benchmarks/RESULTS.md).
            if (!Given("Options") && reads.MaxAutoPrepare > 0) reads.Options = "-c plan_cache_mode=force_generic_plan";
        }
        if (options.MaxReadPoolSize > 0) reads.MaxPoolSize = options.MaxReadPoolSize;
        // Several hosts (Host=primary,standby…): the primary for writes, standbys for reads (DatabaseTopology).
        return DatabaseTopology.Create(builder.ConnectionString, reads.ConnectionString);
    }
}

/// <summary>
/// The embedded development cluster: started when no connection string is configured, before the host is built, and
/// stopped when the process ends (the composition root disposes it after the host).
/// </summary>
public sealed class EmbeddedDatabase : IAsyncDisposable
{
    EmbeddedPostgres? _cluster;

    EmbeddedDatabase(EmbeddedPostgres? cluster, string? connectionString, string contentRoot)
    {
        _cluster = cluster;
        ConnectionString = connectionString;
        DevelopmentKeyFile = Path.Combine(contentRoot, ".local", "dev-admin.key");
    }

    /// <summary>The application role's connection string on the embedded cluster; null when a database is configured.</summary>
    public string? ConnectionString { get; }

    /// <summary>Whether the service runs on its embedded development cluster (no connection string configured).</summary>
    public bool IsRunning => ConnectionString is not null;

    /// <summary>Where the development admin key is written: next to the embedded cluster's data, git-ignored.</summary>
    public string DevelopmentKeyFile { get; }

    /// <summary>
    /// Starts the embedded cluster unless a connection string is configured. A cluster that cannot be started is an
    /// <see cref="EmbeddedPostgresUnavailableException"/> that says what to do.
    /// </summary>
    public static async Task<EmbeddedDatabase> StartUnlessConfiguredAsync(IConfiguration configuration, IHostEnvironment environment, ILogger logger,
        CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(configuration.GetConnectionString(DatabaseSetup.ConnectionStringName)))
            return new EmbeddedDatabase(null, null, environment.ContentRootPath);
        var options = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var root = options.EmbeddedRoot ?? DefaultEmbeddedRoot(environment.ContentRootPath);
        EmbeddedPostgres cluster;
        try
        {
            cluster = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(root, options.EmbeddedPort),
                message => logger.LogInformation("{Message}", message), ct);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            throw new EmbeddedPostgresUnavailableException(
                $"The embedded PostgreSQL cluster in {root} could not be started: {e.Message} " +
                "See postgres.log in that folder, or configure an existing database with the connection string ConnectionStrings__Rectify.");
        }
        try
        {
            await cluster.CreateDatabaseAsync("rectify", template: null, ct);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        logger.LogInformation("Using the embedded PostgreSQL cluster in {Root} (127.0.0.1:{Port}, database rectify)", root, cluster.Port);
        return new EmbeddedDatabase(cluster, cluster.AppConnectionString("rectify"), environment.ContentRootPath);
    }

    /// <summary>
    /// <c>.local/postgres</c> in the checkout, unless the postgres system user cannot reach it (a checkout under a
    /// private home folder when running as root): then a folder under /var/tmp named after the checkout.
    /// </summary>
    static string DefaultEmbeddedRoot(string contentRoot)
    {
        var local = Path.Combine(contentRoot, ".local", "postgres");
        if (EmbeddedPostgres.IsReachableBySystemUser(contentRoot)) return local;
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(contentRoot));
        var name = Convert.ToHexString(hash)[..12].ToLowerInvariant();
        return Path.Combine("/var/tmp", $"rectify-{name}", "postgres");
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is null) return;
        await _cluster.DisposeAsync();
        _cluster = null;
    }
}

/// <summary>
/// Work that start-up runs once the schema is current and before the service reports ready, in the order the
/// composition root registers it (the demo data, the development key). Infrastructure knows no feature: features and
/// the demo data register their steps.
/// </summary>
public interface IDatabaseStartupStep
{
    Task RunAsync(CancellationToken ct);
}

/// <summary>Whether the database has been brought to the current schema; requests wait for it (503) until then.</summary>
public sealed class DatabaseReadiness
{
    volatile bool _ready;

    public bool IsReady => _ready;

    public void MarkReady() => _ready = true;
}

public sealed class StartupOptions
{
    /// <summary>Longest pause between attempts to reach the database at start-up.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Brings the database to the current schema, then runs the <see cref="IDatabaseStartupStep"/>s. The first attempt runs
/// before the server takes requests; when the database cannot be reached, the service starts anyway, answers 503 (not
/// ready) and keeps trying with exponential back-off, saying so in the log, instead of crash-looping.
/// </summary>
public sealed class DatabaseStartup(
    NpgsqlDataSource dataSource,
    IEnumerable<IDatabaseStartupStep> steps,
    Microsoft.Extensions.Options.IOptions<StartupOptions> startup,
    DatabaseReadiness readiness,
    ILogger<DatabaseStartup> logger) : IHostedService
{
    readonly CancellationTokenSource _stopping = new();
    Task? _retrying;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await TryPrepareAsync(cancellationToken)) return;
        _retrying = Task.Run(() => RetryAsync(_stopping.Token), CancellationToken.None);
    }

    async Task RetryAsync(CancellationToken ct)
    {
        var delay = TimeSpan.FromSeconds(1);
        for (var attempt = 2; !ct.IsCancellationRequested; attempt++)
        {
            try
            {
                await Task.Delay(delay, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (await TryPrepareAsync(ct)) return;
            logger.LogWarning("The database is still unreachable after {Attempts} attempts; next try in {Delay}", attempt, delay * 2);
            delay = TimeSpan.FromTicks(Math.Min((delay * 2).Ticks, startup.Value.MaxRetryDelay.Ticks));
        }
    }

    async Task<bool> TryPrepareAsync(CancellationToken ct)
    {
        try
        {
            await Migrations.ApplyAsync(dataSource, logger, ct);
            foreach (var step in steps) await step.RunAsync(ct);
            readiness.MarkReady();
            logger.LogInformation("The database is ready");
            return true;
        }
        catch (Exception e) when (IsUnreachable(e) && !ct.IsCancellationRequested)
        {
            logger.LogError("The database cannot be reached ({Reason}); the service answers 503 until it can", e.GetBaseException().Message);
            return false;
        }
    }

    /// <summary>The database is down or still starting: worth waiting for. A failing migration is not, and stops the service.</summary>
    static bool IsUnreachable(Exception e) => e switch
    {
        PostgresException pg => pg.IsTransient || pg.SqlState.StartsWith("08", StringComparison.Ordinal)
            || pg.SqlState.StartsWith("57P", StringComparison.Ordinal),
        NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or Polly.CircuitBreaker.BrokenCircuitException
            or Polly.Timeout.TimeoutRejectedException => true,
        _ => e.InnerException is { } inner && IsUnreachable(inner),
    };

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_retrying is not null) await _retrying.WaitAsync(cancellationToken);
    }
}

/// <summary>
/// Dapper 2.1 does not map <see cref="DateOnly"/>, which Npgsql returns for <c>date</c> columns; a <see cref="Period"/>
/// travels as its text.
/// </summary>
static class DapperTypeHandlers
{
    static int _registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        SqlMapper.AddTypeHandler(new DateOnlyHandler());
        SqlMapper.AddTypeHandler(new PeriodTypeHandler());
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    sealed class DateOnlyHandler : SqlMapper.TypeHandler<DateOnly>
    {
        public override void SetValue(System.Data.IDbDataParameter parameter, DateOnly value)
        {
            parameter.DbType = System.Data.DbType.Date;
            parameter.Value = value;
        }

        public override DateOnly Parse(object value) => value switch
        {
            DateOnly date => date,
            DateTime dateTime => DateOnly.FromDateTime(dateTime),
            _ => throw new InvalidCastException($"Cannot read a date from {value.GetType().Name}."),
        };
    }
}
