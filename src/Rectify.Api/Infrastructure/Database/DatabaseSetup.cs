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

    /// <summary>Largest number of pooled connections per API node.</summary>
    public int MaxPoolSize { get; set; } = 50;
}

public static class DatabaseSetup
{
    public const string ConnectionStringName = "Rectify";

    /// <summary>
    /// One <see cref="NpgsqlDataSource"/> for the process, the database unit-of-work runner, and the start-up work
    /// (embedded cluster when no connection string is configured, migrations, demo data).
    /// </summary>
    public static IServiceCollection AddRectifyDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        DapperTypeHandlers.Register();
        services.Configure<DatabaseOptions>(configuration.GetSection(DatabaseOptions.Section));
        services.AddSingleton<DatabaseConnection>();
        services.AddSingleton(sp => sp.GetRequiredService<DatabaseConnection>().DataSource);
        services.AddSingleton<DatabaseMetrics>();
        services.AddSingleton<Db>();
        services.AddSingleton<DatabaseReadiness>();
        services.AddHostedService<DatabaseStartup>();
        return services;
    }
}

/// <summary>
/// Resolves where the database is: the configured connection string, or else the embedded cluster, which it
/// starts on first use and stops when the host stops.
/// </summary>
public sealed class DatabaseConnection(
    IConfiguration configuration,
    Microsoft.Extensions.Options.IOptions<DatabaseOptions> options,
    IHostEnvironment environment,
    ILogger<DatabaseConnection> logger) : IAsyncDisposable
{
    readonly Lazy<NpgsqlDataSource> _dataSource = new(() => Create(configuration, options.Value, environment, logger, out _cluster));
    static EmbeddedPostgres? _cluster;

    public NpgsqlDataSource DataSource => _dataSource.Value;

    /// <summary>Whether the service runs on its embedded development cluster (no connection string configured).</summary>
    public bool IsEmbedded => string.IsNullOrWhiteSpace(configuration.GetConnectionString(DatabaseSetup.ConnectionStringName));

    /// <summary>Where the development admin key is written: next to the embedded cluster's data, git-ignored.</summary>
    public string DevelopmentKeyFile => Path.Combine(environment.ContentRootPath, ".local", "dev-admin.key");

    static NpgsqlDataSource Create(IConfiguration configuration, DatabaseOptions options, IHostEnvironment environment, ILogger logger, out EmbeddedPostgres? cluster)
    {
        cluster = null;
        var connectionString = configuration.GetConnectionString(DatabaseSetup.ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            var root = options.EmbeddedRoot ?? DefaultEmbeddedRoot(environment.ContentRootPath);
            cluster = EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(root, options.EmbeddedPort), message => logger.LogInformation("{Message}", message), CancellationToken.None)
                .GetAwaiter().GetResult();
            cluster.CreateDatabaseAsync("rectify", template: null, CancellationToken.None).GetAwaiter().GetResult();
            connectionString = cluster.AppConnectionString("rectify");
            logger.LogInformation("Using the embedded PostgreSQL cluster in {Root} (127.0.0.1:{Port}, database rectify)", root, cluster.Port);
        }
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // What the connection string names wins. (Npgsql's ContainsKey answers whether a keyword is known, not whether it
        // was given: Keys holds the given ones, by their canonical names.)
        bool Given(string keyword) => builder.Keys.Contains(keyword, StringComparer.OrdinalIgnoreCase);
        if (!Given("Maximum Pool Size")) builder.MaxPoolSize = options.MaxPoolSize;
        if (!Given("GSS Encryption Mode")) builder.GssEncryptionMode = GssEncryptionMode.Disable;
        // Each connection prepares the statements it runs often: PostgreSQL then skips parsing and planning them.
        if (!Given("Max Auto Prepare")) builder.MaxAutoPrepare = 64;
        // No request leaves session state on a connection (SET only as SET LOCAL, temp tables ON COMMIT DROP, advisory
        // locks per transaction; Database/SessionStateTests checks it), so a connection going back to the pool needs no DISCARD ALL.
        if (!Given("No Reset On Close")) builder.NoResetOnClose = true;
        builder.ApplicationName ??= "rectify-api";
        return new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    /// <summary>
    /// <c>.local/postgres</c> in the checkout, unless the postgres system user cannot reach it (a checkout under a
    /// private home folder when running as root): then a folder under /var/tmp named after the checkout.
    /// </summary>
    static string DefaultEmbeddedRoot(string contentRoot)
    {
        var local = Path.Combine(contentRoot, ".local", "postgres");
        if (EmbeddedPostgres.IsReachableBySystemUser(contentRoot)) return local;
        var name = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(contentRoot)))[..12].ToLowerInvariant();
        return Path.Combine("/var/tmp", $"rectify-{name}", "postgres");
    }

    public async ValueTask DisposeAsync()
    {
        if (_dataSource.IsValueCreated) await _dataSource.Value.DisposeAsync();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
            _cluster = null;
        }
    }
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
/// Brings the database to the current schema (and the demo data). The first attempt runs before the server takes
/// requests; when the database cannot be reached, the service starts anyway, answers 503 (not ready) and keeps
/// trying with exponential back-off, saying so in the log, instead of crash-looping.
/// </summary>
public sealed class DatabaseStartup(
    DatabaseConnection connection,
    Microsoft.Extensions.Options.IOptions<DatabaseOptions> options,
    Microsoft.Extensions.Options.IOptions<StartupOptions> startup,
    DatabaseReadiness readiness,
    IServiceProvider services,
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
            var dataSource = connection.DataSource;
            await Migrations.ApplyAsync(dataSource, logger, ct);
            if (options.Value.LoadDemoData) await services.GetRequiredService<DemoData.ReferenceCaseLoader>().LoadAsync(ct);
            if (connection.IsEmbedded) await Features.Clients.ClientCommands.EnsureDevelopmentKeyAsync(services, connection.DevelopmentKeyFile, logger, ct);
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
        PostgresException pg => pg.IsTransient || pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("57P", StringComparison.Ordinal),
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

/// <summary>Dapper 2.1 does not map <see cref="DateOnly"/>, which Npgsql returns for <c>date</c> columns.</summary>
static class DapperTypeHandlers
{
    static int _registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        SqlMapper.AddTypeHandler(new DateOnlyHandler());
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
